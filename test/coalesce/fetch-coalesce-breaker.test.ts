import { describe, expect, it } from 'vitest'
import { isCircuitOpenError } from '../../src/index.js'
import {
  defaultHandler,
  delay,
  echoOf,
  reply,
  startUpstream,
  useUpstream,
} from '../helpers/upstream.js'

const { up, closeFetches, make } = useUpstream()

const slowly =
  (ms: number) =>
  async (...args: Parameters<typeof defaultHandler>) => {
    await delay(ms)
    await defaultHandler(...args)
  }

describe('createFetch coalescing', () => {
  it('sends 1,000 concurrent identical GETs upstream exactly once', async () => {
    up.handle(slowly(50))
    const fetch = make()
    const responses = await Promise.all(Array.from({ length: 1_000 }, () => fetch(`${up.url}/hot`)))
    const bodies = await Promise.all(responses.map(echoOf))
    expect(up.requests).toHaveLength(1)
    expect(new Set(bodies.map((b) => b.n))).toEqual(new Set([0]))
    expect(fetch.stats()).toMatchObject({ coalesced: 999, upstreamCalls: 1, inFlight: 0 })
  })

  it('coalesces without a cache too, and keeps the in-flight map empty afterwards', async () => {
    up.handle(slowly(30))
    const fetch = make({ cache: false })
    await Promise.all(
      Array.from({ length: 20 }, () => fetch(`${up.url}/nocache`).then((r) => r.text())),
    )
    expect(up.requests).toHaveLength(1)
    expect(fetch.stats().inFlight).toBe(0)
  })

  it('leaves nine callers served when one of ten aborts', async () => {
    up.handle(slowly(100))
    const fetch = make()
    const leaving = new AbortController()
    const calls = Array.from({ length: 10 }, (_, i) =>
      fetch(`${up.url}/ten`, i === 3 ? { signal: leaving.signal } : {}),
    )
    setTimeout(() => leaving.abort(new Error('caller 3 left')), 20)
    const settled = await Promise.allSettled(calls)
    expect(settled.filter((s) => s.status === 'fulfilled')).toHaveLength(9)
    const rejected = settled[3] as PromiseRejectedResult
    expect(rejected.reason).toEqual(new Error('caller 3 left'))
    expect(up.requests).toHaveLength(1)
  })

  it('aborts the upstream call when the last caller leaves', async () => {
    let closedEarly = false
    up.handle(async (_req, res) => {
      res.on('close', () => {
        closedEarly = !res.writableEnded
      })
      await delay(200)
      if (!res.destroyed) reply(res, 200, 'late')
    })
    const fetch = make()
    const controllers = [new AbortController(), new AbortController()]
    const calls = controllers.map((c) => fetch(`${up.url}/all-leave`, { signal: c.signal }))
    setTimeout(() => {
      for (const c of controllers) c.abort()
    }, 30)
    await Promise.allSettled(calls)
    await delay(50)
    expect(closedEarly).toBe(true)
    expect(fetch.stats().inFlight).toBe(0)
  })

  it('never merges two calls with different credentials', async () => {
    up.handle(slowly(30))
    const fetch = make()
    await Promise.all([
      fetch(`${up.url}/cred`, { headers: { 'x-api-key': 'a' } }).then((r) => r.text()),
      fetch(`${up.url}/cred`, { headers: { 'x-api-key': 'b' } }).then((r) => r.text()),
    ])
    expect(up.requests).toHaveLength(2)
  })

  it('never merges POSTs that are not declared cacheable', async () => {
    up.handle(slowly(30))
    const fetch = make()
    await Promise.all(
      Array.from({ length: 3 }, () =>
        fetch(`${up.url}/post`, { method: 'POST', body: 'x' }).then((r) => r.text()),
      ),
    )
    expect(up.requests).toHaveLength(3)
  })
})

describe('createFetch coalescing of answers that set a cookie', () => {
  it('gives each of 4 identical callers its own upstream answer and cookie', async () => {
    let joined = 0
    let allJoined: () => void = () => {}
    const joinedAll = new Promise<void>((resolve) => {
      allJoined = resolve
    })
    up.handle(async (_req, res, _seen, index) => {
      // The first answer waits until the three others have joined its flight.
      if (index === 0) await joinedAll
      reply(res, 200, `answer ${index}`, { 'set-cookie': `session=${index}; HttpOnly` })
    })
    const fetch = make({
      onEvent: (event) => {
        if (event.type === 'coalesced' && ++joined === 3) allJoined()
      },
    })
    const responses = await Promise.all([1, 2, 3, 4].map(() => fetch(`${up.url}/login`)))
    const cookies = responses.map((r) => r.headers.get('set-cookie'))
    const bodies = await Promise.all(responses.map((r) => r.text()))
    expect(up.requests).toHaveLength(4)
    expect(new Set(cookies).size).toBe(4)
    for (const [i, body] of bodies.entries()) {
      expect(cookies[i]).toBe(`session=${body.slice('answer '.length)}; HttpOnly`)
    }
    expect(fetch.stats()).toMatchObject({ coalesced: 0, upstreamCalls: 4, cacheHits: 0 })
  })
})

describe('createFetch breaker', () => {
  it('opens, fails fast, probes after halfOpenAfter and closes', async () => {
    up.handle((_req, res) => reply(res, 500, 'broken'))
    const states: string[] = []
    const fetch = make({
      cache: false,
      retry: false,
      breaker: { failureThreshold: 3, halfOpenAfter: 100 },
      onEvent: (e) => {
        if (e.type === 'breaker') states.push(e.to)
      },
    })
    for (let i = 0; i < 3; i++) expect((await fetch(`${up.url}/b`)).status).toBe(500)
    const fastFail = await fetch(`${up.url}/b`).catch((e: unknown) => e)
    expect(isCircuitOpenError(fastFail)).toBe(true)
    expect(up.requests).toHaveLength(3)
    await delay(130)
    up.handle((_req, res) => reply(res, 200, 'healed'))
    expect(await (await fetch(`${up.url}/b`)).text()).toBe('healed')
    expect(await (await fetch(`${up.url}/b`)).text()).toBe('healed')
    expect(states).toEqual(['open', 'halfOpen', 'closed'])
    expect(fetch.stats()).toMatchObject({ breakerOpens: 1, breakerRejects: 1 })
  })

  it('serves stale instead of failing fast when a stale entry is allowed', async () => {
    const fetch = make({
      cache: { ttl: 20, staleIfError: 10_000 },
      retry: false,
      breaker: { failureThreshold: 1, halfOpenAfter: 10_000 },
    })
    await (await fetch(`${up.url}/s`)).text()
    await delay(40)
    up.handle((_req, res) => reply(res, 500, 'broken'))
    expect((await echoOf(await fetch(`${up.url}/s`))).n).toBe(0)
    expect((await echoOf(await fetch(`${up.url}/s`))).n).toBe(0)
    expect(up.requests).toHaveLength(2)
    expect(fetch.stats()).toMatchObject({ breakerRejects: 1, staleServed: 2 })
  })

  it('keeps one breaker per origin', async () => {
    const other = await startUpstream()
    try {
      up.handle((_req, res) => reply(res, 500, 'broken'))
      const fetch = make({ cache: false, retry: false, breaker: { failureThreshold: 1 } })
      await (await fetch(`${up.url}/x`)).text()
      await expect(fetch(`${up.url}/x`)).rejects.toThrow(/circuit open/)
      expect((await fetch(`${other.url}/x`)).status).toBe(200)
    } finally {
      await closeFetches()
      await other.close()
    }
  })
})
