import type { StageContext } from '../context.js'
import type { Stage } from '../pipeline.js'
import type { ResolvedBucket } from '../quota-options.js'

export interface RateLimitStage {
  readonly stage: Stage
  /** Adds `delta` tokens to a bucket's balance (negative: a debt), e.g. to reconcile an estimate. */
  adjust(name: string, key: string, delta: number): void
  close(): Promise<void>
}

export function createRateLimitStage(
  _ctx: StageContext,
  _buckets: readonly ResolvedBucket[],
): RateLimitStage {
  return { stage: (call, next) => next(call), adjust() {}, close: async () => {} }
}
