import { describe, expect, it, onTestFinished } from 'vitest'
import { isTimeoutError } from '../../src/index.js'
import { createManualTime, trackFetch } from '../helpers/manual-time.js'
import { delay, reply, reset, useUpstream } from '../helpers/upstream.js'

const { up, make } = useUpstream()
const fast = { baseDelay: 5, maxDelay: 20 }

/** Manual time for one test, and the options that put a client on it. */
function manual() {
  const time = createManualTime()
  const net = trackFetch()
  onTestFinished(() => net.close())
  return {
    time,
    options: { clock: time, timers: time, fetch: net.fetch },
    /** Moves the clock on by `ms`, waiting out every exchange before each timer. */
    advance: (ms: number) => time.advance(ms, net.settle),
  }
}

describe('createFetch retries', () => {
  it('waits a second on 503 with Retry-After: 1, then succeeds', async () => {
    up.handle((_req, res, _seen, i) =>
      i === 0 ? reply(res, 503, 'busy', { 'retry-after': '1' }) : reply(res, 200, 'ok'),
    )
    const { options, advance } = manual()
    const fetch = make({ cache: false, ...options })
    const pending = fetch(`${up.url}/ra`)
    await advance(999)
    expect(up.requests).toHaveLength(1)
    await advance(1)
    const res = await pending
    expect(up.requests).toHaveLength(2)
    expect(await res.text()).toBe('ok')
    expect(fetch.stats()).toMatchObject({ upstreamCalls: 2, retries: 1 })
  })

  it('does not retry a 400', async () => {
    up.handle((_req, res) => reply(res, 400, 'bad'))
    const fetch = make({ retry: fast })
    expect((await fetch(`${up.url}/bad`)).status).toBe(400)
    expect(up.requests).toHaveLength(1)
  })

  it('does not retry a POST without an idempotency key on 503', async () => {
    up.handle((_req, res) => reply(res, 503, 'busy'))
    const fetch = make({ retry: fast, idempotency: false })
    const res = await fetch(`${up.url}/orders`, { method: 'POST', body: '{}' })
    expect(res.status).toBe(503)
    expect(up.requests).toHaveLength(1)
  })

  it('retries a POST that carries an Idempotency-Key, sending the same key', async () => {
    up.handle((_req, res, _seen, i) => (i < 2 ? reply(res, 503, 'busy') : reply(res, 201, 'made')))
    const fetch = make({ retry: fast })
    const res = await fetch(`${up.url}/orders`, {
      method: 'POST',
      body: '{}',
      headers: { 'idempotency-key': 'order-42' },
    })
    expect(res.status).toBe(201)
    expect(up.requests.map((r) => r.headers['idempotency-key'])).toEqual([
      'order-42',
      'order-42',
      'order-42',
    ])
    expect(up.requests.map((r) => r.body)).toEqual(['{}', '{}', '{}'])
  })

  it('resolves with the last Response when retries run out on a status', async () => {
    up.handle((_req, res) => reply(res, 502, 'gateway'))
    const fetch = make({ cache: false, retry: { ...fast, maxAttempts: 3 } })
    const res = await fetch(`${up.url}/gw`)
    expect(res.status).toBe(502)
    expect(await res.text()).toBe('gateway')
    expect(up.requests).toHaveLength(3)
    expect(fetch.stats()).toMatchObject({ retries: 2, giveUps: 1 })
  })

  it('retries a connection reset, and rejects with attempts when it persists', async () => {
    up.handle(reset)
    const fetch = make({ cache: false, retry: { ...fast, maxAttempts: 3 } })
    const error = await fetch(`${up.url}/reset`).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(TypeError)
    expect((error as { attempts: number }).attempts).toBe(3)
    expect(up.requests).toHaveLength(3)
  })

  it('times out a slow attempt and retries it', async () => {
    up.handle(async (_req, res, _seen, i) => {
      if (i === 0) await delay(400)
      reply(res, 200, `attempt ${i}`)
    })
    const fetch = make({ cache: false, timeout: 100, retry: fast })
    expect(await (await fetch(`${up.url}/slow`)).text()).toBe('attempt 1')
    expect(fetch.stats().timeouts).toBe(1)
  })

  it('rejects with TimeoutError when every attempt times out', async () => {
    up.handle(async (_req, res) => {
      await delay(300)
      reply(res, 200, 'late')
    })
    const fetch = make({ cache: false, timeout: 50, retry: { ...fast, maxAttempts: 2 } })
    const error = await fetch(`${up.url}/slow`).catch((e: unknown) => e)
    expect(isTimeoutError(error)).toBe(true)
    expect((error as { attempts: number }).attempts).toBe(2)
  })

  it("stops at once on the caller's abort, with its reason, and does not retry", async () => {
    up.handle(async (_req, res) => {
      await delay(300)
      reply(res, 503, 'late')
    })
    const fetch = make({ cache: false, retry: fast })
    const controller = new AbortController()
    const pending = fetch(`${up.url}/abort`, { signal: controller.signal })
    setTimeout(() => controller.abort(new Error('user left')), 50)
    await expect(pending).rejects.toThrow('user left')
    expect(up.requests).toHaveLength(1)
  })

  it('starts no wait that would pass the deadline, returning the last outcome', async () => {
    up.handle((_req, res) => reply(res, 503, 'busy', { 'retry-after': '2' }))
    const { time, options } = manual()
    const fetch = make({ cache: false, retry: { deadline: 500 }, ...options })
    const started = time.now()
    // The clock does not move, so a call that waited would never end: this one returns at once.
    const res = await fetch(`${up.url}/deadline`)
    expect(res.status).toBe(503)
    expect(time.now()).toBe(started)
    expect(up.requests).toHaveLength(1)
  })

  it('gives up at once when Retry-After asks more than maxRetryAfter', async () => {
    up.handle((_req, res) => reply(res, 429, 'slow down', { 'retry-after': '120' }))
    const fetch = make({ cache: false })
    expect((await fetch(`${up.url}/long`)).status).toBe(429)
    expect(up.requests).toHaveLength(1)
  })

  it('obeys x-should-retry from the server', async () => {
    up.handle((_req, res, _seen, i) =>
      i === 0 ? reply(res, 400, 'retry me', { 'x-should-retry': 'true' }) : reply(res, 200, 'ok'),
    )
    const fetch = make({ cache: false, retry: fast })
    expect((await fetch(`${up.url}/should`)).status).toBe(200)
    up.handle((_req, res) => reply(res, 503, 'no', { 'x-should-retry': 'false' }))
    up.requests.length = 0
    expect((await fetch(`${up.url}/should-not`)).status).toBe(503)
    expect(up.requests).toHaveLength(1)
  })

  it('makes one attempt for a call that says retry: false', async () => {
    up.handle((_req, res) => reply(res, 503, 'busy'))
    const fetch = make({ cache: false, retry: fast })
    expect((await fetch(`${up.url}/once`, { breakwater: { retry: false } })).status).toBe(503)
    expect(up.requests).toHaveLength(1)
  })

  it('limits retries to the budget during an outage', async () => {
    up.handle((_req, res) => reply(res, 503, 'down'))
    const fetch = make({
      cache: false,
      coalesce: false,
      breaker: false,
      retry: { ...fast, maxAttempts: 4, budget: { ratio: 0.1, minPerSecond: 2 } },
    })
    await Promise.all(
      Array.from({ length: 40 }, () => fetch(`${up.url}/outage`).then((r) => r.text())),
    )
    const { retries, upstreamCalls } = fetch.stats()
    expect(retries).toBeLessThanOrEqual(40 * 0.1 + 2 * 10 + 1)
    expect(upstreamCalls).toBeLessThan(40 * 4)
  })
})
