import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { BreakwaterEvent } from '../../src/core/events.js'
import { type BreakwaterFetch, type CreateFetchOptions, createFetch } from '../../src/fetch.js'
import { createManualTime, flushMicrotasks } from '../helpers/manual-time.js'
import { reply, startUpstream, type Upstream } from '../helpers/upstream.js'

describe('createFetch with a pool', () => {
  let a: Upstream
  let b: Upstream
  const open: BreakwaterFetch[] = []
  let events: BreakwaterEvent[] = []
  const make = (options: CreateFetchOptions) => {
    const fetch = createFetch({
      cache: false,
      retry: { baseDelay: 1, maxDelay: 2, jitter: 'none' },
      onEvent: (e) => events.push(e),
      ...options,
    })
    open.push(fetch)
    return fetch
  }
  const two = () => [
    { name: 'a', origin: a.url },
    { name: 'b', origin: b.url },
  ]
  const served = () => events.flatMap((e) => (e.type === 'served' ? [e.via] : []))

  const echo = () => startUpstream((_req, res, seen) => reply(res, 200, seen.url))

  beforeAll(async () => {
    ;[a, b] = await Promise.all([echo(), echo()])
  })
  afterEach(async () => {
    await Promise.all(open.splice(0).map((f) => f.close()))
    events = []
    for (const up of [a, b]) {
      up.requests.length = 0
      up.handle((_req, res, seen) => reply(res, 200, `${seen.url}`))
    }
  })
  afterAll(() => Promise.all([a.close(), b.close()]))

  it('moves on to the next target after the first failed its retries, which then cools down', async () => {
    a.handle((_req, res) => reply(res, 503, 'down'))
    const fetch = make({ pool: { targets: two() }, retry: { maxAttempts: 2, baseDelay: 1 } })
    // Whichever target the first call picks, both calls end on b.
    for (let i = 0; i < 2; i++) {
      const res = await fetch('http://pool.invalid/v1/items?x=1')
      expect(res.status).toBe(200)
      expect(await res.text()).toBe('/v1/items?x=1')
    }
    expect(a.requests.length).toBeLessThanOrEqual(2)
    expect(b.requests).toHaveLength(2)
    expect(served()).toEqual(['b', 'b'])
    const stats = fetch.stats()
    expect(stats.servedBy).toEqual({ a: 0, b: 2 })
    expect(stats.failovers).toBe(a.requests.length / 2)
    const failover = events.find((e) => e.type === 'failover')
    if (a.requests.length > 0) {
      expect(failover).toMatchObject({ via: 'a', reason: 'status 503', cooldown: 10_000 })
    }
  })

  it("returns the last target's failed answer when every target failed", async () => {
    for (const up of [a, b]) up.handle((_req, res) => reply(res, 502, 'bad gateway'))
    const fetch = make({ pool: { targets: two() }, retry: false })
    const res = await fetch('http://pool.invalid/x')
    expect(res.status).toBe(502)
    expect(await res.text()).toBe('bad gateway')
    expect(a.requests.length + b.requests.length).toBe(2)
    expect(fetch.stats()).toMatchObject({ failovers: 1, servedBy: { a: 0, b: 0 } })
  })

  it('ends the call on an answer that no other target would better, such as a 400', async () => {
    for (const up of [a, b]) up.handle((_req, res) => reply(res, 400, 'bad request'))
    const fetch = make({ pool: { targets: two() } })
    expect((await fetch('http://pool.invalid/x')).status).toBe(400)
    expect(a.requests.length + b.requests.length).toBe(1)
    expect(fetch.stats().failovers).toBe(0)
  })

  it('sends each key target its own header on one origin, with a breaker of its own', async () => {
    a.handle((req, res) =>
      req.headers['x-api-key'] === 'key-1' ? reply(res, 500, 'down') : reply(res, 200, 'up'),
    )
    const fetch = make({
      retry: false,
      breaker: { failureThreshold: 1, halfOpenAfter: 60_000 },
      pool: {
        // Chosen first by its weight, every time: the first call meets key-1's failure.
        targets: [
          { name: 'one', weight: 1_000_000, headers: { 'x-api-key': 'key-1' } },
          { name: 'two', headers: { 'x-api-key': 'key-2' } },
        ],
        cooldown: 0,
      },
    })
    for (let i = 0; i < 6; i++) expect((await fetch(`${a.url}/m`)).status).toBe(200)
    const keys = a.requests.map((r) => r.headers['x-api-key'])
    // key-1 failed once, which opened its breaker alone: it was never sent to again.
    expect(keys.filter((k) => k === 'key-1')).toHaveLength(1)
    expect(keys.filter((k) => k === 'key-2')).toHaveLength(6)
    const opened = events.find((e) => e.type === 'breaker' && e.to === 'open')
    expect(opened).toMatchObject({ scope: `${a.url} via one` })
    expect(fetch.stats().servedBy).toEqual({ one: 0, two: 6 })
  })

  it('sends a call to the target whose buckets can start it soonest', async () => {
    const time = createManualTime()
    const fetch = make({
      clock: time,
      timers: time,
      retry: false,
      rateLimit: { name: 'rps', perSecond: 1, capacity: 1, mode: 'reject' },
      pool: { targets: two() },
    })
    // One token per target: two calls at once go one to each, a third finds both spent.
    expect((await fetch('http://pool.invalid/1')).status).toBe(200)
    expect((await fetch('http://pool.invalid/2')).status).toBe(200)
    expect(a.requests).toHaveLength(1)
    expect(b.requests).toHaveLength(1)
    await expect(fetch('http://pool.invalid/3')).rejects.toMatchObject({ code: 'RATE_LIMITED' })
    expect(fetch.stats().failovers).toBe(1)
  })

  it('passes over a target whose buckets are in debt while another can start calls sooner', async () => {
    const time = createManualTime()
    const fetch = make({
      clock: time,
      timers: time,
      retry: false,
      rateLimit: { name: 'rps', perSecond: 1, capacity: 1 },
      pool: { targets: two() },
    })
    // a's bucket owes 5 tokens (another caller spent them): it could start a call in 6 s.
    fetch.adjust('rps', `${a.url} via a`, -5)
    const waits: number[] = []
    for (let i = 0; i < 3; i++) {
      const pending = fetch(`http://pool.invalid/${i}`)
      await flushMicrotasks()
      await time.advance(i === 0 ? 0 : 1_000)
      expect((await pending).status).toBe(200)
    }
    for (const e of events) if (e.type === 'throttled') waits.push(e.wait)
    // b starts one call a second; a, 6 s away, is never the soonest.
    expect(a.requests).toHaveLength(0)
    expect(b.requests).toHaveLength(3)
    expect(waits).toEqual([1_000, 1_000])
  })

  it('tries the fallbacks in order after the targets, built by request()', async () => {
    a.handle((_req, res) => reply(res, 503, 'down'))
    const fetch = make({
      retry: false,
      pool: {
        targets: [{ name: 'main', origin: a.url }],
        fallbacks: [
          {
            name: 'other-api',
            request: (call) =>
              new Request(`${b.url}/v2/other`, {
                method: 'POST',
                headers: { 'content-type': 'text/plain', 'x-from': call.url },
                body: 'converted',
              }),
          },
        ],
      },
    })
    const res = await fetch('http://main.invalid/v1/items', {
      method: 'PUT',
      body: 'original',
    })
    expect(res.status).toBe(200)
    await res.arrayBuffer()
    expect(a.requests).toHaveLength(1)
    expect(b.requests).toEqual([
      expect.objectContaining({ method: 'POST', url: '/v2/other', body: 'converted' }),
    ])
    expect(b.requests[0]?.headers['x-from']).toBe('http://main.invalid/v1/items')
    expect(served()).toEqual(['other-api'])
  })

  it('does not send a POST without an idempotency key to another target after a 5xx', async () => {
    a.handle((_req, res) => reply(res, 503, 'down'))
    const fetch = make({
      retry: false,
      idempotency: false,
      pool: { targets: [{ name: 'a', origin: a.url }], fallbacks: [{ name: 'b', origin: b.url }] },
    })
    const res = await fetch('http://x.invalid/order', { method: 'POST', body: '{}' })
    expect(res.status).toBe(503)
    await res.arrayBuffer()
    expect(b.requests).toHaveLength(0)
  })
})
