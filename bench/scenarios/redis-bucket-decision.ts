import { createClient } from '@redis/client'
import { RateLimiterRedis } from 'rate-limiter-flexible'
import { systemClock, systemTimers } from '../../src/core/clock.js'
import { Events } from '../../src/core/events.js'
import { Counters } from '../../src/core/stats.js'
import type { BucketRequest, BucketSpec } from '../../src/ratelimit/bucket-store.js'
import { RedisBucketStore } from '../../src/ratelimit/redis-bucket-store.js'
import { RedisConnection } from '../../src/redis/connection.js'
import { resolveRedis } from '../../src/redis/options.js'
import { type Check, measure, ratio, type Scenario } from '../scenario.js'

// Budgets so large that no decision while measuring is a refusal: the figures are of grants.
const requests: BucketSpec = { name: 'requests', capacity: 1e9, refillPerSecond: 1e12 }
const tokens: BucketSpec = { name: 'tokens', capacity: 1e12, refillPerSecond: 1e15 }

/**
 * What one shared rate-limit decision costs: the Redis bucket store's `acquire` (one script,
 * EVALSHA, on Redis' clock) over one bucket and over two, against a bare PING on the same
 * connection, the round trip no decision can beat. rate-limiter-flexible's RateLimiterRedis
 * (one script too) runs beside it on a node-redis client of its own.
 */
export const redisBucketDecision: Scenario = {
  name: 'redis-bucket-decision',
  description: 'one shared token-bucket decision on Redis vs a bare PING round trip',
  redis: true,
  async run(options) {
    const url = options.redisUrl
    if (url === undefined) throw new Error('redis-bucket-decision needs a Redis server')
    const resolved = resolveRedis({ url, timeout: 1_000 })
    if (!resolved) throw new Error('unreachable: a URL resolves')
    const namespace = `bwbench:${process.pid}:${Date.now().toString(36)}`
    const counters = new Counters()
    const context = {
      counters,
      events: new Events(undefined),
      clock: systemClock,
      timers: systemTimers,
    }
    const connection = new RedisConnection(resolved, namespace, context)
    const store = new RedisBucketStore(connection)
    const rlfClient = createClient({ url, disableOfflineQueue: true })
    rlfClient.on('error', () => {})
    await rlfClient.connect()
    const rlf = new RateLimiterRedis({
      storeClient: rlfClient,
      useRedisPackage: true,
      keyPrefix: `${namespace}:rlf`,
      points: 1e12,
      duration: 60,
    })
    const oneRequest: BucketRequest[] = [{ bucket: requests, key: 'api-key-1', cost: 1 }]
    const twoRequests: BucketRequest[] = [
      { bucket: requests, key: 'api-key-1', cost: 1 },
      { bucket: tokens, key: 'api-key-1', cost: 1_200 },
    ]
    let refusals = 0
    const acquire = async (of: BucketRequest[]) => {
      if (!(await store.acquire(of, 0)).granted) refusals++
    }
    try {
      // Loads the script (EVALSHA's first NOSCRIPT) before anything is timed.
      await acquire(twoRequests)
      const figures = await measure(
        [
          {
            name: 'PING round trip',
            role: 'floor',
            floor: 'PING round trip',
            fn: () => connection.command(['PING']),
          },
          {
            name: 'Redis acquire, 1 bucket',
            role: 'subject',
            floor: 'PING round trip',
            fn: () => acquire(oneRequest),
          },
          {
            name: 'Redis acquire, 2 buckets',
            role: 'subject',
            floor: 'PING round trip',
            fn: () => acquire(twoRequests),
          },
          {
            name: 'rate-limiter-flexible RateLimiterRedis consume',
            role: 'peer',
            floor: 'PING round trip',
            fn: () => rlf.consume('api-key-1', 1),
          },
        ],
        options,
      )
      const checks: Check[] = [
        {
          name: 'every Redis decision was a grant, with no Redis error',
          ok: refusals === 0 && counters.redisErrors === 0,
          detail: `${refusals} refusals, ${counters.redisErrors} Redis errors`,
        },
      ]
      return {
        name: redisBucketDecision.name,
        description: redisBucketDecision.description,
        figures,
        ratios: [
          ratio(
            figures,
            'Redis acquire, 1 bucket / PING',
            'Redis acquire, 1 bucket',
            'PING round trip',
            1.5,
          ),
          ratio(
            figures,
            'Redis acquire, 2 buckets / PING',
            'Redis acquire, 2 buckets',
            'PING round trip',
            1.5,
          ),
        ],
        checks,
      }
    } finally {
      // The bucket keys expire by themselves as soon as the buckets are full (within a ms here).
      await rlfClient.del(`${namespace}:rlf:api-key-1`).catch(() => {})
      rlfClient.destroy()
      await connection.close()
    }
  },
}
