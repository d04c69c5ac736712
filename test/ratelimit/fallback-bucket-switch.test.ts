import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { BreakwaterEvent } from '../../src/core/events.js'
import { type BreakwaterFetch, createFetch } from '../../src/fetch.js'
import { type QuotaServer, startQuotaServer } from '../helpers/quota-server.js'
import { testNamespace } from '../helpers/redis.js'
import { RedisServer } from '../helpers/redis-server.js'
import { delay } from '../helpers/upstream.js'

describe('a bucket switching between Redis and its local share under load', () => {
  let redis: RedisServer
  let server: QuotaServer
  // The server's quota, and breakwater's bucket beneath it: the server's larger burst leaves
  // 30 tokens (300 ms: a loaded machine's event loop can stall that long, then send what it
  // granted all at once) for the jitter between a granted start and the request's arrival,
  // less than a switch that forgot what was spent would send on top (a full local bucket plus
  // the queue of 40 callers the other side had already granted).
  const perSecond = 100
  const burst = 35
  const capacity = 5
  const callers = 40

  beforeAll(async () => {
    redis = await RedisServer.create(false)
    server = await startQuotaServer({ perSecond, burst })
  })
  afterEach(() => redis.stop())
  afterAll(async () => {
    await redis.stop()
    await server.close()
  })

  /**
   * `callers` loops calling the quota server through `fetch` until `fault` has run its course;
   * what the server answered is what counts.
   */
  async function underLoad(fetch: BreakwaterFetch, fault: () => Promise<void>) {
    let running = true
    let sent = 0
    const statuses: number[] = []
    // A path of its own per call: identical calls would be coalesced into one.
    const loop = async () => {
      while (running) {
        const res = await fetch(`${server.url}/q/${sent++}`)
        await res.arrayBuffer()
        statuses.push(res.status)
      }
    }
    // Every caller is queued on Redis before the fault, as it would be in a busy service.
    await fetch(`${server.url}/warm`).then((res) => res.arrayBuffer())
    server.reset()
    const loops = Array.from({ length: callers }, loop)
    await fault()
    running = false
    await Promise.all(loops)
    return statuses
  }

  const open = (seen: BreakwaterEvent[]) =>
    createFetch({
      redis: { url: redis.url, timeout: 100 },
      namespace: testNamespace('bucket-switch'),
      cache: false,
      retry: false,
      rateLimit: { name: 'rps', perSecond, capacity, maxWait: 30_000 },
      onEvent: (e) => seen.push(e),
    })
  const until = async (seen: BreakwaterEvent[], type: BreakwaterEvent['type']) => {
    for (let i = 0; i < 100 && !seen.some((e) => e.type === type); i++) await delay(50)
    expect(seen.map((e) => e.type)).toContain(type)
  }

  it('sends nothing past the quota when Redis is killed mid-load and comes back empty', async () => {
    await redis.start()
    const seen: BreakwaterEvent[] = []
    const fetch = open(seen)
    try {
      const statuses = await underLoad(fetch, async () => {
        await delay(500)
        await redis.stop()
        await delay(800)
        // A fresh server, no persistence: the shared bucket it holds is full.
        await redis.start()
        await until(seen, 'redisUp')
        await delay(800)
      })
      console.info(
        `Redis killed and back: ${server.admitted} admitted, ${server.rejected} × 429, ${fetch.stats().redisFallbacks} local decisions`,
      )
      expect(server.rejected).toBe(0)
      expect(statuses.filter((s) => s !== 200)).toEqual([])
      expect(fetch.stats().redisFallbacks).toBeGreaterThan(10)
      // The quota was used on both sides of each switch, not merely waited out.
      expect(server.admitted).toBeGreaterThan((perSecond * 2_100) / 1_000 / 2)
    } finally {
      await fetch.close()
    }
  })

  it('sends nothing past the quota when Redis is paused mid-load and resumes', async () => {
    await redis.start()
    const seen: BreakwaterEvent[] = []
    const fetch = open(seen)
    try {
      await underLoad(fetch, async () => {
        await delay(500)
        await redis.cli('CLIENT', 'PAUSE', '1000', 'ALL')
        await until(seen, 'redisDown')
        await until(seen, 'redisUp')
        await delay(800)
      })
      console.info(
        `Redis paused and resumed: ${server.admitted} admitted, ${server.rejected} × 429, ${fetch.stats().redisFallbacks} local decisions`,
      )
      expect(server.rejected).toBe(0)
      expect(fetch.stats().redisFallbacks).toBeGreaterThan(10)
    } finally {
      await fetch.close()
    }
  })
})
