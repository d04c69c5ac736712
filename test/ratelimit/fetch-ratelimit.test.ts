import { afterEach, describe, expect, it } from 'vitest'
import {
  type BreakwaterEvent,
  type BreakwaterFetch,
  createFetch,
  isRateLimitError,
} from '../../src/index.js'
import { type QuotaServer, startQuotaServer } from '../helpers/quota-server.js'
import { reply, startUpstream, type Upstream } from '../helpers/upstream.js'

let servers: { close(): Promise<void> }[] = []
let fetches: BreakwaterFetch[] = []

afterEach(async () => {
  await Promise.all(fetches.map((f) => f.close()))
  await Promise.all(servers.map((s) => s.close()))
  servers = []
  fetches = []
})

async function quota(
  perSecond: number,
  burst: number,
  headers?: (left: number) => Record<string, string>,
) {
  const server: QuotaServer = await startQuotaServer(
    headers === undefined ? { perSecond, burst } : { perSecond, burst, headers },
  )
  servers.push(server)
  return server
}

function client(options: Parameters<typeof createFetch>[0]): BreakwaterFetch {
  const f = createFetch({ cache: false, ...options })
  fetches.push(f)
  return f
}

async function refusal(promise: Promise<unknown>) {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  if (!isRateLimitError(error)) throw new Error(`expected a RateLimitError, got ${String(error)}`)
  return error
}

describe('createFetch with rateLimit', () => {
  it('sends 200 concurrent calls through perSecond: 20 without a 429, as fast as the quota allows', async () => {
    // The server's own bucket: 20 a second, a burst of 20, plus one request of slack for the
    // network's jitter (a call sent on time may land a few ms before one sent earlier).
    const server = await quota(20, 21)
    const fetch = client({ rateLimit: { name: 'rps', perSecond: 20 } })
    // A burst that opens 20 new connections lands tens of ms late, behind calls paced after it
    // on warm ones: open them first, as a running service has, then let both buckets refill.
    await Promise.all(Array.from({ length: 20 }, (_, i) => fetch(`${server.url}/warm-up/${i}`)))
    await new Promise((resolve) => setTimeout(resolve, 1_050))
    server.reset()
    const started = performance.now()
    const statuses = await Promise.all(
      Array.from({ length: 200 }, async (_, i) => (await fetch(`${server.url}/item/${i}`)).status),
    )
    const seconds = (performance.now() - started) / 1_000
    expect(server.rejected).toBe(0)
    expect(statuses.every((s) => s === 200)).toBe(true)
    expect(server.admitted).toBe(200)
    // (200 − 20) / 20 = 9 s is what the quota allows.
    expect(seconds).toBeGreaterThan(8.8)
    expect(seconds).toBeLessThan(10.5)
    expect(fetch.stats()).toMatchObject({ throttled: 180, rateLimitRejects: 0, retries: 0 })
  }, 25_000)

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
    const started = performance.now()
    const error = await refusal(fetch(server.url, { breakwater: { cost: 1_500 } }))
    expect(performance.now() - started).toBeLessThan(100)
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
    await new Promise((resolve) => setTimeout(resolve, 50))
    controller.abort()
    await expect(waiting).rejects.toThrow()
    const started = performance.now()
    await fetch(`${server.url}/next`)
    // Its turn was at 200 ms (the aborted call's place), not at 400 ms behind it.
    expect(performance.now() - started).toBeLessThan(250)
    expect(server.upstream.requests.map((r) => r.url)).toEqual(['/first', '/next'])
  })

  it('pauses every caller on the bucket when the server answers 429 with Retry-After', async () => {
    const arrivals: number[] = []
    const upstream: Upstream = await startUpstream((_req, res, seen, index) => {
      arrivals.push(performance.now())
      if (index === 0) reply(res, 429, 'slow down', { 'retry-after': '1' })
      else reply(res, 200, seen.url)
    })
    servers.push(upstream)
    let pausedAt = 0
    const events: BreakwaterEvent[] = []
    const fetch = client({
      rateLimit: { name: 'rps', perSecond: 100 },
      onEvent: (event) => {
        events.push(event)
        if (event.type === 'paused') pausedAt = performance.now()
      },
    })
    const first = fetch(`${upstream.url}/first`)
    while (pausedAt === 0) await new Promise((resolve) => setTimeout(resolve, 5))
    const others = await Promise.all([1, 2, 3].map((i) => fetch(`${upstream.url}/other/${i}`)))
    expect((await first).status).toBe(200)
    expect(others.map((r) => r.status)).toEqual([200, 200, 200])
    expect(arrivals).toHaveLength(5)
    for (const at of arrivals.slice(1)) expect(at - pausedAt).toBeGreaterThan(950)
    expect(events).toContainEqual(expect.objectContaining({ type: 'paused', pause: 1_000 }))
  })

  it('lowers the budget to what the server reports, and never raises it', async () => {
    let report = '0'
    const server = await quota(1_000, 1_000, () => ({ 'x-ratelimit-remaining-requests': report }))
    const fetch = client({ rateLimit: { name: 'rpm', perSecond: 1, capacity: 5, mode: 'reject' } })
    await fetch(`${server.url}/a`)
    expect((await refusal(fetch(`${server.url}/b`))).retryAfter).toBeGreaterThan(900)

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
    expect(error.retryAfter).toBeGreaterThan(150)
    expect(error.retryAfter).toBeLessThanOrEqual(200)
    expect(fetch.stats()).toMatchObject({ rateLimitRejects: 1, throttled: 0 })
    expect(server.admitted).toBe(5)
  })

  it('lets adjust() put a bucket into debt that later calls wait out', async () => {
    const server = await quota(1_000, 1_000)
    const fetch = client({ rateLimit: { name: 'rps', perSecond: 20 } })
    fetch.adjust('rps', server.url, -25)
    const started = performance.now()
    await fetch(`${server.url}/after-debt`)
    // Balance −5: the call waits for 6 tokens, 300 ms.
    expect(performance.now() - started).toBeGreaterThan(250)
    expect(fetch.stats().throttled).toBe(1)
    expect(() => fetch.adjust('rsp', server.url, 1)).toThrow(RangeError)
  })
})
