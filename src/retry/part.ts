import type { PartFactory } from '../part.js'
import { createRetryStage } from './retry-stage.js'

/** Attempt → classify → wait → again. */
export const retryPart: PartFactory = (context, options) =>
  options.retry ? { stage: createRetryStage(context, options.retry) } : undefined
