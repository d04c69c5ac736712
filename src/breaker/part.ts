import type { PartFactory } from '../part.js'
import { createBreakerStage } from './breaker-stage.js'

/** One breaker per scope: open → fail fast. */
export const breakerPart: PartFactory = (context, options) =>
  options.breaker ? { stage: createBreakerStage(context, options.breaker) } : undefined
