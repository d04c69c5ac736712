import type { PartFactory } from '../part.js'
import { createStreamStage } from './stream-stage.js'

/** The commit of event streams and their idle limit; absent when neither option is on. */
export const streamPart: PartFactory = (context, options) =>
  options.stream ? { stage: createStreamStage(context, options.stream) } : undefined
