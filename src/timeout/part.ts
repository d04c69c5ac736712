import type { PartFactory } from '../part.js'
import { createTimeoutStage } from './timeout-stage.js'

/** The per-attempt limit; always there, since a call's own `timeout` may turn it on. */
export const timeoutPart: PartFactory = (context) => ({ stage: createTimeoutStage(context) })
