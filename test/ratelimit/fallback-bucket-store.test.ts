import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { type Clock, systemClock } from '../../src/core/clock.js'
import { FallbackBucketStore } from '../../src/ratelimit/fallback-bucket-store.js'
import { MemoryBucketStore } from '../../src/ratelimit/memory-bucket-store.js'
import { RedisBucketStore } from '../../src/ratelimit/redis-bucket-store.js'
import { RedisConnection } from '../../src/redis/connection.js'
import { resolveRedis } from '../../src/redis/options.js'
import { createManualTime } from '../helpers/manual-time.js'
import { realContext, testNamespace } from '../helpers/redis.js'
import { RedisServer } from '../helpers/redis-server.js'
import { delay } from '../helpers/upstream.js'

describe('FallbackBucketStore', () => {
  let server: RedisServer
  const connections: RedisConnection[] = []
  beforeAll(async () => {
    server = await RedisServer.create(false)
  })
  afterEach(async () => {
    await Promise.all(connections.splice(0).map((c) => c.close()))
    await server.stop()
  })
  afterAll(() => server.stop())

  /**
   * A store on the test's own server, holding a quarter of each budget while it is down; its
   * local share counts on `clock` (Redis keeps its own time).
   */
  const open = (timeout = 100, clock: Clock = systemClock) => {
    const options = resolveRedis({ url: server.url, timeout })
    if (!options) throw new Error('redis expected')
    const connection = new RedisConnection(options, testNamespace('fallback'), realContext())
    connections.push(connection)
    return new FallbackBucketStore(
      new RedisBucketStore(connection),
      new MemoryBucketStore({ clock }),
      {
        onError: 'fallback',
        localShare: 0.25,
      },
    )
  }
  // A quarter of it: 2 tokens, one back every 100 ms.
  const bucket = { name: 'rps', capacity: 8, refillPerSecond: 40 }
  const target = { bucket, key: 'https://api.test' }

  it('decides on a quarter of the budget while Redis is down, and says so', async () => {
    // A clock that stands still: however long Redis takes to fail, no token comes back meanwhile.
    const store = open(100, createManualTime())
    const got = [1, 2, 3].map(() => store.acquire([{ ...target, cost: 1 }], 0))
    const answers = await Promise.all(got)
    expect(answers.map((a) => a.granted)).toEqual([true, true, false])
    for (const a of answers) expect(a.degraded).toMatchObject({ by: 'fallback' })
    const refused = answers[2]
    if (refused?.granted !== false) throw new Error('expected a refusal')
    expect(refused.retryAfter).toBe(100)
  })

  it('gives a reservation made locally back to the local bucket', async () => {
    const store = open(100, createManualTime())
    await store.acquire([{ ...target, cost: 2 }], 0)
    const waiting = await store.acquire([{ ...target, cost: 1 }], 1_000)
    if (!waiting.granted) throw new Error('refused')
    await store.refund(waiting.reservation)
    const next = await store.acquire([{ ...target, cost: 1 }], 1_000)
    if (!next.granted) throw new Error('refused')
    // The refunded token's place: 100 ms, not 200 ms behind it.
    expect(next.wait).toBe(100)
  })

  it('holds a 429 pause taken while Redis was up after Redis goes down', async () => {
    await server.start()
    // Time enough for the first connect on a busy machine: this test needs Redis up at first.
    const store = open(1_000)
    expect(await store.acquire([{ ...target, cost: 1 }], 0)).not.toHaveProperty('degraded')
    await store.pause([target], 1_000)
    await server.stop()
    const refused = await store.acquire([{ ...target, cost: 1 }], 0)
    expect(refused).toMatchObject({ granted: false, degraded: { by: 'fallback' } })
    if (refused.granted) throw new Error('expected a refusal')
    expect(refused.retryAfter).toBeGreaterThan(800)
  })

  it("starts the local share as spent as Redis' last decision left the bucket", async () => {
    await server.start()
    const store = open(1_000)
    // A slow refill, so that nothing comes back while the test runs: 8 tokens, 0.8 a second.
    const slow = { bucket: { name: 'slow', capacity: 8, refillPerSecond: 0.8 }, key: 'k' }
    expect(await store.acquire([{ ...slow, cost: 6 }], 0)).toMatchObject({ granted: true })
    await server.stop()
    // Redis left 2 of 8: the local quarter holds half a token, not its 2.
    const refused = await store.acquire([{ ...slow, cost: 1 }], 0)
    expect(refused).toMatchObject({ granted: false, degraded: { by: 'fallback' } })
  })

  it('hands what the local share spent over to Redis before deciding there again', async () => {
    const store = open()
    const slow = { bucket: { name: 'slow', capacity: 8, refillPerSecond: 0.8 }, key: 'k' }
    // Redis is away: the local quarter (2 tokens) is spent whole.
    expect(await store.acquire([{ ...slow, cost: 2 }], 0)).toMatchObject({
      granted: true,
      degraded: { by: 'fallback' },
    })
    await server.start()
    // The connection probes a Redis marked down once a second.
    let back = false
    for (let i = 0; i < 100 && !back; i++) {
      await delay(50)
      back = (await store.acquire([{ ...slow, cost: 0 }], 0)).degraded === undefined
    }
    expect(back).toBe(true)
    // A fresh Redis held a full bucket; it now holds what the local share left: all but
    // about a token of 8 spent.
    expect(await store.acquire([{ ...slow, cost: 2 }], 0)).toMatchObject({ granted: false })
    expect(await store.balance(slow)).toBeLessThan(2)
  })

  it('lowers the local bucket to its share of what the server reports', async () => {
    const store = open()
    // The fleet has 4 left: this process's share is 1, of a local capacity of 2.
    await store.lower([{ ...target, remaining: 4 }], Date.now())
    const balance = await store.balance(target)
    expect(balance).toBeGreaterThanOrEqual(1)
    expect(balance).toBeLessThan(1.5)
  })

  it("refuses at once with onError 'reject'", async () => {
    const options = resolveRedis({ url: server.url, timeout: 100 })
    if (!options) throw new Error('redis expected')
    const connection = new RedisConnection(options, testNamespace('reject'), realContext())
    connections.push(connection)
    const store = new FallbackBucketStore(
      new RedisBucketStore(connection),
      new MemoryBucketStore(),
      {
        onError: 'reject',
        localShare: 1,
      },
    )
    expect(await store.acquire([{ ...target, cost: 1 }], 0)).toMatchObject({
      granted: false,
      bucket: 'rps',
      exceedsCapacity: false,
      degraded: { by: 'reject' },
    })
  })
})
