import type { PartFactory } from '../part.js'
import { createSharedRecordStore } from './fallback-record-store.js'
import { createIdempotencyStage } from './idempotency-stage.js'

/** Idempotency keys and replay: records shared on Redis, or made in memory by the stage. */
export const idempotencyPart: PartFactory = (context, options, shared) => {
  if (!options.idempotency) return undefined
  const records =
    shared.redis && createSharedRecordStore(shared.redis, options.idempotency.maxRecords)
  const part = createIdempotencyStage(context, options.idempotency, records)
  return {
    stage: part.stage,
    close: async () => {
      await part.close()
      await records?.close()
    },
  }
}
