import type { PartFactory } from '../part.js'
import { createPoolStage } from './pool-stage.js'

/**
 * One call, several targets: each attempt goes down the rest of the chain as one target's
 * call. It reads the rate-limit part's headroom, made after it, at call time.
 */
export const poolPart: PartFactory = (context, options, shared) => {
  if (!options.pool) return undefined
  const pool = createPoolStage(context, options.pool, () => shared.headroom)
  return { stage: pool.stage, servedBy: pool.servedBy }
}
