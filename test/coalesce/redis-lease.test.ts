import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { defaultKeyHeaders } from '../../src/cache/options.js'
import { leaseLength } from '../../src/coalesce/redis-lease.js'
import type { BreakwaterEvent } from '../../src/core/events.js'
import { httpKey } from '../../src/core/key.js'
import { maxTimerMs } from '../../src/core/validate.js'
import { type BreakwaterFetch, type CreateFetchOptions, createFetch } from '../../src/fetch.js'
import { redisDefaults } from '../../src/redis/options.js'
import { rawClient, redisUrl, testNamespace } from '../helpers/redis.js'
import { freePort } from '../helpers/redis-server.js'
import { delay, reply, startUpstream, type Upstream } from '../helpers/upstream.js'

describe('coalescing across instances with a Redis lease', () => {
  let upstream: Upstream
  let redis: Awaited<ReturnType<typeof rawClient>>
  const opened: BreakwaterFetch[] = []
  const seen: BreakwaterEvent[] = []

  beforeAll(async () => {
    upstream = await startUpstream()
    redis = await rawClient()
  })
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((f) => f.close()))
    seen.length = 0
  })
  afterAll(async () => {
    redis.destroy()
    await upstream.close()
  })

  const open = (options: CreateFetchOptions) => {
    const fetch = createFetch({
      redis: redisUrl(),
      retry: false,
      onEvent: (e) => seen.push(e),
      ...options,
    })
    opened.push(fetch)
    return fetch
  }
  const slowly = (ms: number, status = 200, headers: Record<string, string> = {}) =>
    upstream.handle(async (_req, res, seenReq) => {
      await delay(ms)
      reply(res, status, `answer to ${seenReq.url}`, headers)
    })
  const hitsOf = (path: string) => upstream.requests.filter((r) => r.url === path).length
  const types = () => seen.map((e) => e.type)

  it('lets one instance go upstream while the others wait for its entry', async () => {
    const namespace = testNamespace('lease')
    slowly(150)
    const fetches = [open({ namespace }), open({ namespace }), open({ namespace })]
    const bodies = await Promise.all(
      fetches.map(async (f) => (await f(`${upstream.url}/one`)).text()),
    )
    expect(bodies).toEqual(Array(3).fill('answer to /one'))
    expect(hitsOf('/one')).toBe(1)
    expect(types().filter((t) => t === 'leaseJoined')).toHaveLength(2)
    expect(fetches.reduce((n, f) => n + f.stats().coalesced, 0)).toBe(2)
    expect(await redis.keys(`${namespace}:lease:*`)).toEqual([])
  })

  it('keeps the lease while its holder retries past the lease time', async () => {
    const namespace = testNamespace('renew')
    upstream.handle((_req, res) => {
      if (hitsOf('/renew') < 3) return reply(res, 503)
      reply(res, 200, 'third time lucky')
    })
    // The lease runs out unrenewed after leaseMs; the holder's retries take 1.2 times that.
    const baseDelay = leaseLength(redisDefaults.timeout) * 0.6
    const retry = { maxAttempts: 3, baseDelay, backoff: 'fixed', jitter: 'none' } as const
    const holder = open({ namespace, timeout: 100, retry })
    const holding = holder(`${upstream.url}/renew`)
    await delay(50)
    const waiter = open({ namespace, timeout: 100 })
    const [mine, theirs] = await Promise.all([holding, waiter(`${upstream.url}/renew`)])
    expect([await mine.text(), await theirs.text()]).toEqual(Array(2).fill('third time lucky'))
    expect(hitsOf('/renew')).toBe(3)
    expect(types()).toContain('leaseJoined')
  })

  it('sends waiters upstream themselves, at once, when the outcome may not be stored', async () => {
    const namespace = testNamespace('unstored')
    slowly(100, 503)
    const fetches = [open({ namespace }), open({ namespace }), open({ namespace })]
    const started = performance.now()
    const statuses = await Promise.all(
      fetches.map(async (f) => (await f(`${upstream.url}/unstored`)).status),
    )
    expect(statuses).toEqual([503, 503, 503])
    expect(hitsOf('/unstored')).toBe(3)
    // Not one after the other through the lease: both waiters went as soon as they saw the mark.
    expect(types()).not.toContain('leaseTakeover')
    expect(performance.now() - started).toBeLessThan(700)
  })

  it('takes over a lease whose holder died without storing anything', async () => {
    const namespace = testNamespace('takeover')
    slowly(0)
    const url = `${upstream.url}/takeover`
    await (await open({ namespace })(url)).text()
    const cacheKey = String((await redis.keys(`${namespace}:cache:*`))[0])
    // Another process took the lease and died: its key alone is left, until PX ends it.
    await redis.del(cacheKey)
    const leaseKey = `${namespace}:lease:${httpKey({
      method: 'GET',
      url: new URL(url),
      headers: new Headers(),
      body: undefined,
      keyHeaders: defaultKeyHeaders,
      custom: undefined,
    })}`
    await redis.set(leaseKey, 'token-of-a-dead-holder', { PX: 400 })
    const started = performance.now()
    const res = await open({ namespace })(url)
    const waited = performance.now() - started
    expect(res.status).toBe(200)
    await res.text()
    expect(waited).toBeGreaterThanOrEqual(390)
    expect(waited).toBeLessThan(900)
    expect(types()).toContain('leaseTakeover')
    expect(hitsOf('/takeover')).toBe(2)
  })

  it('leaves alone a lease that another process took over meanwhile', async () => {
    const namespace = testNamespace('token')
    slowly(150)
    const a = open({ namespace })
    const call = a(`${upstream.url}/token`)
    await delay(60)
    const [lease] = await redis.keys(`${namespace}:lease:*`)
    expect(lease).toBeDefined()
    await redis.set(String(lease), 'someone-else', { PX: 5_000 })
    await (await call).text()
    expect(await redis.get(String(lease))).toBe('someone-else')
    await redis.del(String(lease))
  })

  it('refreshes a stale entry once for all instances', async () => {
    const namespace = testNamespace('swr')
    slowly(100)
    const options = { namespace, cache: { ttl: 100, staleWhileRevalidate: 10_000 } }
    const [a, b] = [open(options), open(options)]
    const url = `${upstream.url}/swr`
    await (await a(url)).text()
    await delay(150)
    await Promise.all([(await a(url)).text(), (await b(url)).text()])
    expect(a.stats().staleServed + b.stats().staleServed).toBe(2)
    await Promise.all([a.close(), b.close()])
    expect(hitsOf('/swr')).toBe(2)
  })

  it('coalesces in process only, and says so, when Redis is unreachable', async () => {
    const port = await freePort()
    slowly(100)
    const a = open({ redis: { url: `redis://127.0.0.1:${port}`, timeout: 50 } })
    const bodies = await Promise.all(
      [0, 1, 2].map(async () => (await a(`${upstream.url}/alone`)).text()),
    )
    expect(bodies).toEqual(Array(3).fill('answer to /alone'))
    expect(hitsOf('/alone')).toBe(1)
    expect(a.stats()).toMatchObject({ coalesced: 2, redisFallbacks: 1 })
    expect(types()).toContain('redisFallback')
  })
})

describe('leaseLength', () => {
  it('lasts 3 s, or three Redis timeouts when longer, in whole ms a timer can hold', () => {
    expect(leaseLength(redisDefaults.timeout)).toBe(3_000)
    expect(leaseLength(1_000.2)).toBe(3_001)
    expect(leaseLength(maxTimerMs)).toBe(maxTimerMs)
  })
})
