import { afterAll, beforeAll } from 'vitest'
import { systemClock } from '../../src/core/clock.js'
import {
  createSharedBucketStore,
  FallbackBucketStore,
} from '../../src/ratelimit/fallback-bucket-store.js'
import { MemoryBucketStore } from '../../src/ratelimit/memory-bucket-store.js'
import { RedisBucketStore } from '../../src/ratelimit/redis-bucket-store.js'
import { RedisConnection } from '../../src/redis/connection.js'
import { resolveRedis } from '../../src/redis/options.js'
import { bucketStoreConformance } from '../conformance/bucket-store.js'
import { realContext, redisUrl, testNamespace } from '../helpers/redis.js'
import { freePort } from '../helpers/redis-server.js'

const connections: RedisConnection[] = []
afterAll(async () => {
  await Promise.all(connections.splice(0).map((c) => c.close()))
})

function connect(url: string) {
  const options = resolveRedis({ url, timeout: 500, localShare: 0.25 })
  if (!options) throw new Error('redis expected')
  const connection = new RedisConnection(options, testNamespace('fallback-buckets'), realContext())
  connections.push(connection)
  return { connection, options }
}

// With Redis up, the wrapper must be indistinguishable from the Redis store: a local share of
// a quarter never shows, since no decision falls to it.
bucketStoreConformance('FallbackBucketStore over a Redis that is up', () => {
  const { connection, options } = connect(redisUrl())
  return { store: createSharedBucketStore(connection, options, systemClock) }
})

// Nothing listens on this port: every shared operation fails (at once, once the connection has
// marked Redis down) and the local share decides. With all of the budget as the local share,
// and the hand-set clock of the local store, it must keep every promise of a BucketStore.
let deadUrl = ''
beforeAll(async () => {
  deadUrl = `redis://127.0.0.1:${await freePort()}`
})

bucketStoreConformance('FallbackBucketStore over a Redis that fails, local share 1', () => {
  const time = { now: 1_000_000 }
  const local = new MemoryBucketStore({ clock: { now: () => time.now } })
  const shared = new RedisBucketStore(connect(deadUrl).connection)
  return {
    store: new FallbackBucketStore(shared, local, { onError: 'fallback', localShare: 1 }),
    advance: (ms) => {
      time.now += ms
    },
    degraded: 'fallback',
  }
})
