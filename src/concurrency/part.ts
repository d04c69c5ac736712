import type { PartFactory } from '../part.js'
import { createConcurrencyStage } from './concurrency-stage.js'

/** At most n upstream attempts in flight. */
export const concurrencyPart: PartFactory = (context, options) =>
  options.concurrency ? { stage: createConcurrencyStage(context, options.concurrency) } : undefined
