import type Keyv from 'keyv'
import type { Part, PartFactory } from '../part.js'
import { createCacheStage } from './cache-stage.js'
import { jsonCodec, rawCodec } from './codec.js'
import { createMemoryKeyv } from './memory-store.js'
import { createRedisKeyv } from './redis-store.js'

/**
 * The cache: on the store given, else on Redis in distributed mode, else in memory. Only the
 * memory store is the instance's own (kept as objects, cleared on close); the others are shared
 * and hold JSON.
 */
export const cachePart: PartFactory = (context, options, shared): Part | undefined => {
  const cache = options.cache
  if (!cache) return undefined
  const { maxEntries, maxTotalBytes, maxBodyBytes } = cache
  const owned = cache.store === undefined && shared.redis === undefined
  let store: Keyv
  if (cache.store !== undefined) store = cache.store
  else if (shared.redis && options.redis) {
    store = createRedisKeyv(shared.redis, { l1: options.redis.l1, maxTotalBytes })
  } else {
    store = createMemoryKeyv({
      maxEntries,
      maxTotalBytes,
      maxBodyBytes,
      admission: cache.admission,
      namespace: options.namespace,
    })
  }
  const part = createCacheStage(context, cache, store, owned ? rawCodec : jsonCodec)
  shared.cacheEntries = part.entries
  return {
    stage: part.stage,
    cacheCommands: part.commands,
    // Refreshes still running go through the parts below: they finish before any part closes.
    drain: part.close,
    close: async () => {
      if (owned) await store.clear()
    },
  }
}
