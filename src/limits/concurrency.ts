import type { StageContext } from '../context.js'
import type { Stage } from '../pipeline.js'
import type { ResolvedConcurrency } from '../quota-options.js'

export function createConcurrencyStage(
  _ctx: StageContext,
  _concurrency: ResolvedConcurrency,
): Stage {
  return (call, next) => next(call)
}
