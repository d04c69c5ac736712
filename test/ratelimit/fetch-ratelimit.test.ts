import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  type BreakwaterEvent,
  type BreakwaterFetch,
  breakwaterErrorOf,
  createFetch,
  isRateLimitError,
} from '../../src/index.js'
import {
  createManualTime,
  type ManualTime,
  type TrackedFetch,
  trackFetch,
} from '../helpers/manual-time.js'
import { type QuotaServer, startQuotaServer } from '../helpers/quota-server.js'
import { reply, startUpstream, type Upstream } from '../helpers/upstream.js'

// Every client and quota server here runs on one manual clock and its timers: a wait lasts
// exactly what it should, however busy the machine, and the clock moves only between exchanges.
let time: ManualTime
let net: TrackedFetch
let servers: { close(): Promise<void> }[] = []
let fetches: BreakwaterFetch[] = []

beforeEach(() => {
  time = createManualTime()
  net = trackFetch()
})

afterEach(async () => {
  await Promise.all(fetches.map((f) => f.close()))
  await Promise.all(servers.map((s) => s.close()))
  await net.close()
  servers = []
  fetches = []
})

/** Moves the manual clock on by `ms`, waiting out every exchange before each timer. */
const advance = (ms: number) => time.advance(ms, net.settle)

async function quota(
  perSecond: number,
  burst: number,
  headers?: (left: number) => Record<string, string>,
) {
  const server: QuotaServer = await startQuotaServer(
    headers === undefined
      ? { perSecond, burst, clock: time }
      : { perSecond, burst, headers, clock: time },
  )
  servers.push(server)
  return server
}

function client(options: Parameters<typeof createFetch>[0]): BreakwaterFetch {
  const f = createFetch({ cache: false, clock: time, timers: time, fetch: net.fetch, ...options })
  fetches.push(f)
  return f
}

async function refusal(promise: Promise<unknown>) {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  const found = breakwaterErrorOf(error)
  if (found !== error || !isRateLimitError(found)) {
    throw new Error(`expected a RateLimitError, got ${String(error)}`)
  }
  return found
}

describe('createFetch with rateLimit', () => {
  it('sends 200 concurrent calls through perSecond: 20 without a 429, as fast as the quota allows', async () => {
    // The server's own bucket, on the same clock: 20 a second, a burst of 20 and no slack, since
    // no request is on the wire while the clock moves.
    const server = await quota(20, 20)
    const fetch = client({ rateLimit: { name: 'rps', perSecond: 20 } })
    const all = Promise.all(
      Array.from({ length: 200 }, async (_, i) => (await fetch(`${server.url}/item/${i}`)).status),
    )
    // (200 − 20) / 20 = 9 s is what the quota allows: the last call goes out then, not before.
    await advance(8_999)
    expect(server.admitted).toBe(199)
    await advance(1)
    const statuses = await all
    expect(server.rejected).toBe(0)
    expect(statuses.every((s) => s === 200)).toBe(true)
    expect(server.admitted).toBe(200)
    expect(server.span).toBe(9_000)
    expect(fetch.stats()).toMatchObject({ throttled: 180, rateLimitRejects: 0, retries: 0 })
  })

  it('debits both buckets of a call or neither', async () => {
    const server = await quota(1_000, 1_000)
    const fetch = client({
      rateLimit: [
        { name: 'rpm', perSecond: 1, capacity: 10, mode: 'reject' },
        { name: 'tpm', perSecond: 1, capacity: 100, cost: 0, mode: 'reject' },
      ],
    })
    await fetch(`${server.url}/a`, { breakwater: { cost: { tpm: 90 } } })
    const error = await refusal(fetch(`${server.url}/b`, { breakwater: { cost: { tpm: 50 } } }))
    expect(error.message).toMatch(/^rate-limit bucket "tpm"/)
    // rpm kept the 9 requests the refused call did not spend.
    for (let i = 0; i < 9; i++) await fetch(`${server.url}/c${i}`)
    expect((await refusal(fetch(`${server.url}/d`))).message).toMatch(/^rate-limit bucket "rpm"/)
    expect(server.admitted).toBe(10)
  })

  it('rejects a call whose cost exceeds a capacity at once, sending nothing', async () => {
    const server = await quota(10, 10)
    const fetch = client({ rateLimit: { name: 'tokens', perMinute: 60_000 } })
    const started = time.now()
    // The clock does not move, so a call that waited would never end: this one is refused at once.
    const error = await refusal(fetch(server.url, { breakwater: { cost: 1_500 } }))
    expect(time.now()).toBe(started)
    expect(fetch.stats().throttled).toBe(0)
    expect(error.message).toBe(
      'rate-limit bucket "tokens" can never admit this call: it costs 1500, above the bucket\'s capacity of 1000',
    )
    expect(server.upstream.requests).toHaveLength(0)
  })

  it('gives the tokens of a caller that aborts while waiting to the next caller', async () => {
    const server = await quota(100, 100)
    const fetch = client({ rateLimit: { name: 'rps', perSecond: 5, capacity: 1 } })
    await fetch(`${server.url}/first`)
    const controller = new AbortController()
    const waiting = fetch(`${server.url}/aborted`, { signal: controller.signal })
    await advance(50)
    controller.abort()
    await expect(waiting).rejects.toThrow()
    const next = fetch(`${server.url}/next`)
    // Its turn is at 200 ms (the aborted call's place), not at 400 ms behind it.
    await advance(149)
    expect(server.upstream.requests.map((r) => r.url)).toEqual(['/first'])
    await advance(1)
    expect((await next).status).toBe(200)
    expect(server.upstream.requests.map((r) => r.url)).toEqual(['/first', '/next'])
  })

  it('pauses every caller on the bucket when the server answers 429 with Retry-After', async () => {
    const arrivals: number[] = []
    const upstream: Upstream = await startUpstream((_req, res, seen, index) => {
      arrivals.push(time.now())
      if (index === 0) reply(res, 429, 'slow down', { 'retry-after': '1' })
      else reply(res, 200, seen.url)
    })
    servers.push(upstream)
    let pausedAt: number | undefined
    const events: BreakwaterEvent[] = []
    const fetch = client({
      rateLimit: { name: 'rps', perSecond: 100 },
      onEvent: (event) => {
        events.push(event)
        if (event.type === 'paused') pausedAt = time.now()
      },
    })
    const first = fetch(`${upstream.url}/first`)
    await net.settle()
    expect(pausedAt).toBe(time.now())
    const waiting = Promise.all([1, 2, 3].map((i) => fetch(`${upstream.url}/other/${i}`)))
    await advance(999)
    expect(arrivals).toHaveLength(1)
    await advance(1)
    expect((await first).status).toBe(200)
    expect((await waiting).map((r) => r.status)).toEqual([200, 200, 200])
    expect(arrivals).toHaveLength(5)
    for (const at of arrivals.slice(1)) expect(at - (pausedAt ?? 0)).toBe(1_000)
    expect(events).toContainEqual(expect.objectContaining({ type: 'paused', pause: 1_000 }))
  })

  it('lowers the budget to what the server reports, and never raises it', async () => {
    let report = '0'
    const server = await quota(1_000, 1_000, () => ({ 'x-ratelimit-remaining-requests': report }))
    const fetch = client({ rateLimit: { name: 'rpm', perSecond: 1, capacity: 5, mode: 'reject' } })
    await fetch(`${server.url}/a`)
    // On the clock that did not move: the whole second until the next token.
    expect((await refusal(fetch(`${server.url}/b`))).retryAfter).toBe(1_000)

    const other = client({ rateLimit: { name: 'rpm', perSecond: 1, capacity: 3, mode: 'reject' } })
    report = '500'
    for (let i = 0; i < 3; i++) await other(`${server.url}/c${i}`)
    await refusal(other(`${server.url}/d`))
    expect(server.admitted).toBe(4)
  })

  it("refuses in 'reject' mode with retryAfter instead of waiting", async () => {
    const server = await quota(1_000, 1_000)
    const fetch = client({ rateLimit: { name: 'rps', perSecond: 5, mode: 'reject' } })
    for (let i = 0; i < 5; i++) await fetch(`${server.url}/${i}`)
    const error = await refusal(fetch(`${server.url}/late`))
    expect(error.retryAfter).toBe(200)
    expect(fetch.stats()).toMatchObject({ rateLimitRejects: 1, throttled: 0 })
    expect(server.admitted).toBe(5)
  })

  it('lets adjust() put a bucket into debt that later calls wait out', async () => {
    const server = await quota(1_000, 1_000)
    const fetch = client({ rateLimit: { name: 'rps', perSecond: 20 } })
    fetch.adjust('rps', server.url, -25)
    const after = fetch(`${server.url}/after-debt`)
    // Balance −5: the call waits for 6 tokens, 300 ms.
    await advance(299)
    expect(server.admitted).toBe(0)
    await advance(1)
    expect((await after).status).toBe(200)
    expect(fetch.stats().throttled).toBe(1)
    expect(() => fetch.adjust('rsp', server.url, 1)).toThrow(RangeError)
  })
})
