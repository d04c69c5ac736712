import type { StageContext } from '../context.js'
import type { Stage } from '../pipeline.js'
import type { ResolvedIdempotency } from '../quota-options.js'

export interface IdempotencyStage {
  readonly stage: Stage
  close(): Promise<void>
}

export function createIdempotencyStage(
  _ctx: StageContext,
  _idempotency: ResolvedIdempotency,
): IdempotencyStage {
  return { stage: (call, next) => next(call), close: async () => {} }
}
