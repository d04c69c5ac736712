import { describe, expect, it } from 'vitest'
import type { BreakwaterFetch } from '../../src/fetch.js'
import type { RedisOptions } from '../../src/redis/options.js'
import { testNamespace } from '../helpers/redis.js'
import { slack, timeout, upstreamMs, useRedisFaults } from '../helpers/redis-faults.js'
import { freePort } from '../helpers/redis-server.js'
import { delay, reply } from '../helpers/upstream.js'

describe('rate-limit buckets through a Redis that fails', () => {
  const faults = useRedisFaults((_req, res, _seen, index) => reply(res, 200, `#${index}`))
  const { upstream, seen } = faults

  /** A fetch with one bucket of `capacity` that refills slowly and never waits. */
  const open = (namespace: string, capacity: number, redis: Partial<RedisOptions> = {}) =>
    faults.make({
      redis: { url: faults.server.url, timeout, ...redis },
      namespace,
      cache: false,
      retry: false,
      rateLimit: { name: 'rpm', capacity, perMinute: 1, mode: 'reject' },
      onEvent: (e) => seen.push(e),
    })
  /** One call, timed: its status, or the code it was refused with. */
  const call = async (fetch: BreakwaterFetch) => {
    const started = performance.now()
    try {
      const res = await fetch(`${upstream.url}/quota`)
      await res.arrayBuffer()
      return { outcome: res.status, ms: performance.now() - started }
    } catch (error) {
      return { outcome: (error as { code?: string }).code, ms: performance.now() - started }
    }
  }
  const outcomes = async (fetch: BreakwaterFetch, n: number) => {
    const got: unknown[] = []
    for (let i = 0; i < n; i++) got.push((await call(fetch)).outcome)
    return got
  }
  const fallbacks = () =>
    seen.filter((e) => e.type === 'redisFallback' && e.part === 'bucket').length
  const awaitRedisUp = async (fetch: BreakwaterFetch) => {
    const started = performance.now()
    while (!seen.some((e) => e.type === 'redisUp') && performance.now() - started < 5_000) {
      await call(fetch)
      await delay(100)
    }
    expect(seen.map((e) => e.type)).toContain('redisUp')
  }

  it('spends the local share while Redis is down, and the shared budget again once it is back', async () => {
    await faults.server.start()
    const namespace = testNamespace('bucket-faults')
    const [a, b] = [open(namespace, 8, { processes: 2 }), open(namespace, 8, { processes: 2 })]
    expect(await outcomes(a, 2)).toEqual([200, 200])
    // Shared: b sees what a spent.
    expect(await outcomes(b, 6)).toEqual([200, 200, 200, 200, 200, 200])
    expect(await outcomes(b, 1)).toEqual(['RATE_LIMITED'])

    await faults.server.stop()
    const down = [await call(a), await call(a), await call(a), await call(a)]
    // Half of the capacity of 8, as spent as a's last decision on Redis left it (6 of 8 left):
    // three calls, then refused. What b spent after it, a did not see.
    expect(down.map((c) => c.outcome)).toEqual([200, 200, 200, 'RATE_LIMITED'])
    for (const c of down) expect(c.ms).toBeLessThan(upstreamMs + timeout + slack)
    expect(a.stats().redisFallbacks).toBe(4)
    expect(fallbacks()).toBe(4)
    expect(seen.map((e) => e.type)).toContain('redisDown')

    // A fresh Redis (no persistence) holds a full shared bucket, until a hands over what its
    // local share spent: it is empty for both then.
    await faults.server.start()
    await awaitRedisUp(a)
    const before = a.stats().redisFallbacks
    expect(await outcomes(a, 1)).toEqual(['RATE_LIMITED'])
    expect(await outcomes(b, 1)).toEqual(['RATE_LIMITED'])
    expect(a.stats().redisFallbacks).toBe(before)
  })

  it('completes calls within the timeout plus the upstream when Redis was never there', async () => {
    const fetch = open(testNamespace('bucket-never'), 3, {
      url: `redis://127.0.0.1:${await freePort()}`,
    })
    const times: number[] = []
    for (let i = 0; i < 3; i++) {
      const got = await call(fetch)
      expect(got.outcome).toBe(200)
      times.push(got.ms)
    }
    console.info(`bucket call, Redis never there: ${times.map((t) => t.toFixed(0)).join(', ')} ms`)
    for (const ms of times) expect(ms).toBeLessThan(upstreamMs + timeout + slack)
    // processes defaults to 1: the whole capacity locally, and no more.
    expect((await call(fetch)).outcome).toBe('RATE_LIMITED')
    expect(fetch.stats().redisFallbacks).toBe(4)
  })

  it('does not hang a call on a paused Redis', async () => {
    await faults.server.start()
    const fetch = open(testNamespace('bucket-slow'), 10)
    expect((await call(fetch)).outcome).toBe(200)
    await faults.server.cli('CLIENT', 'PAUSE', '2000', 'ALL')
    const slow = await call(fetch)
    expect(slow.outcome).toBe(200)
    expect(slow.ms).toBeLessThan(upstreamMs + timeout + slack)
    expect(fetch.stats().redisFallbacks).toBe(1)
  })

  it("refuses calls at once with onError 'reject', and admits them again once Redis is back", async () => {
    await faults.server.start()
    const fetch = open(testNamespace('bucket-reject'), 10, { onError: 'reject' })
    expect((await call(fetch)).outcome).toBe(200)
    await faults.server.stop()
    const hits = upstream.requests.length
    const refused = await Promise.allSettled([fetch(`${upstream.url}/quota`)])
    const [result] = refused
    expect(result?.status).toBe('rejected')
    const error = (result as PromiseRejectedResult).reason
    expect(error).toMatchObject({ code: 'RATE_LIMITED', retryAfter: 1_000 })
    expect(String(error.message)).toContain("redis.onError: 'reject'")
    const again = await call(fetch)
    expect(again).toMatchObject({ outcome: 'RATE_LIMITED' })
    expect(again.ms).toBeLessThan(slack)
    expect(upstream.requests.length).toBe(hits)
    expect(fetch.stats()).toMatchObject({ rateLimitRejects: 2, redisFallbacks: 0 })
    await faults.server.start()
    await awaitRedisUp(fetch)
    expect((await call(fetch)).outcome).toBe(200)
  })
})
