import type { PartFactory } from '../part.js'
import { createSharedBucketStore } from './fallback-bucket-store.js'
import { createRateLimitStage } from './ratelimit-stage.js'

/** Token buckets for every attempt: shared on Redis, or made in memory by the stage. */
export const rateLimitPart: PartFactory = (context, options, shared) => {
  if (options.rateLimit.length === 0) return undefined
  const buckets =
    shared.redis && options.redis
      ? createSharedBucketStore(shared.redis, options.redis, context.clock)
      : undefined
  const part = createRateLimitStage(context, options.rateLimit, buckets)
  shared.headroom = part.headroom
  return {
    stage: part.stage,
    adjust: part.adjust,
    close: async () => {
      await part.close()
      await buckets?.close()
    },
  }
}
