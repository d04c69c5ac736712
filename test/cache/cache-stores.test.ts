import Keyv from 'keyv'
import { jsonCodec, rawCodec } from '../../src/cache/codec.js'
import { createMemoryKeyv } from '../../src/cache/memory-store.js'
import { createRedisKeyv, type RedisCacheOptions } from '../../src/cache/redis-store.js'
import { RedisConnection } from '../../src/redis/connection.js'
import { resolveRedis } from '../../src/redis/options.js'
import { cacheStoreConformance } from '../conformance/cache-store.js'
import { realContext, redisUrl, testNamespace } from '../helpers/redis.js'

// Each store with the codec src/chain.ts gives it: raw objects for the private memory store,
// JSON-safe entries for Redis and for a store the user hands in.

cacheStoreConformance('the memory Keyv', () => ({
  keyv: createMemoryKeyv({
    maxEntries: 1_000,
    maxTotalBytes: 1_048_576,
    maxBodyBytes: 100_000,
    namespace: 'breakwater',
  }),
  codec: rawCodec,
}))

/** A Redis Keyv on a connection and namespace of its own, closed with the store. */
function redisStore(l1: RedisCacheOptions['l1']) {
  const options = resolveRedis({ url: redisUrl(), timeout: 1_000 })
  if (!options) throw new Error('redis expected')
  const connection = new RedisConnection(options, testNamespace('cache-store'), realContext())
  return {
    keyv: createRedisKeyv(connection, { l1, maxTotalBytes: 1_048_576 }),
    codec: jsonCodec,
    close: () => connection.close(),
  }
}

cacheStoreConformance('the Redis Keyv', () => redisStore(false))

// The in-process copy must not outlive a TTL, a delete or a clear of what it copied.
cacheStoreConformance('the Redis Keyv with an in-process copy', () =>
  redisStore({ maxEntries: 100, ttl: 1_000 }),
)

cacheStoreConformance("a user's plain Keyv", () => ({ keyv: new Keyv(), codec: jsonCodec }))
