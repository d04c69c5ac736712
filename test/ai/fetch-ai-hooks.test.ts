import { describe, expect, it } from 'vitest'
import { type BreakwaterFetch, createFetch } from '../../src/index.js'
import { delay, reply, useUpstream } from '../helpers/upstream.js'

// The core hooks breakwater/ai is built on, each usable without it.
const { up, make } = useUpstream()

const post = (fetch: BreakwaterFetch, body: unknown, path = '/gen') =>
  fetch(`${up.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })

const sse = (res: import('node:http').ServerResponse, n: number) => {
  res.writeHead(200, { 'content-type': 'text/event-stream' })
  res.write(`data: {"n":${n},"part":1}\n\n`)
  setTimeout(() => res.end(`data: {"n":${n},"part":2}\n\n`), 5)
}

describe('cache.cacheable', () => {
  it('lets only the calls it accepts be cached and merged', async () => {
    const fetch = make({
      cache: {
        methods: ['POST'],
        cacheable: (call) => JSON.parse(new TextDecoder().decode(call.body)).temperature === 0,
      },
    })
    await (await post(fetch, { temperature: 0 })).text()
    await (await post(fetch, { temperature: 0 })).text()
    await Promise.all(
      [post(fetch, { temperature: 1 }), post(fetch, { temperature: 1 })].map(async (r) =>
        (await r).text(),
      ),
    )
    expect(up.requests).toHaveLength(3)
    expect(fetch.stats()).toMatchObject({ cacheHits: 1, coalesced: 0 })
  })

  it('is checked at construction', () => {
    expect(() => createFetch({ cache: { cacheable: true as never } })).toThrow(
      'cache.cacheable must be a function, got true',
    )
    expect(() => createFetch({ cache: { streams: 'yes' as never } })).toThrow(
      'cache.streams must be a boolean, got "yes"',
    )
    expect(() => createFetch({ cache: { storable: 1 as never } })).toThrow(
      'cache.storable must be a function, got 1',
    )
    expect(() => createFetch({ retry: { retryAfter: 5 as never } })).toThrow(
      'retry.retryAfter must be a function, got 5',
    )
  })
})

describe('cache.storable', () => {
  it('keeps an answer it refuses out of the store', async () => {
    up.handle((_req, res, _seen, n) => reply(res, 200, n === 0 ? '{"error":{}}' : '{"ok":true}'))
    const fetch = make({
      cache: {
        storable: (outcome) => outcome.kind === 'http' && !textOf(outcome.body).includes('error'),
      },
    })
    for (let i = 0; i < 3; i++) await (await fetch(`${up.url}/a`)).text()
    expect(up.requests).toHaveLength(2)
  })
})

const textOf = (body: unknown) => (body instanceof Uint8Array ? new TextDecoder().decode(body) : '')

describe('cache.streams', () => {
  it('stores an event stream read to its end and replays it whole', async () => {
    up.handle((_req, res, _seen, n) => sse(res, n))
    const fetch = make({ cache: { streams: true } })
    const first = await fetch(`${up.url}/events`, { headers: { accept: 'text/event-stream' } })
    expect(first.headers.get('content-type')).toBe('text/event-stream')
    const firstText = await first.text()
    const second = await fetch(`${up.url}/events`, { headers: { accept: 'text/event-stream' } })
    expect(await second.text()).toBe(firstText)
    expect(second.headers.get('content-type')).toBe('text/event-stream')
    expect(up.requests).toHaveLength(1)
  })

  it('does not store a stream its reader left half read', async () => {
    up.handle((_req, res, _seen, n) => sse(res, n))
    const fetch = make({ cache: { streams: true } })
    const first = await fetch(`${up.url}/events`)
    const reader = (first.body as ReadableStream<Uint8Array>).getReader()
    await reader.read()
    await reader.cancel()
    await (await fetch(`${up.url}/events`)).text()
    expect(up.requests).toHaveLength(2)
  })

  it('never stores an event stream without it', async () => {
    up.handle((_req, res, _seen, n) => sse(res, n))
    const fetch = make()
    await (await fetch(`${up.url}/events`)).text()
    await (await fetch(`${up.url}/events`)).text()
    expect(up.requests).toHaveLength(2)
  })
})

describe('retry hooks and the failed body', () => {
  const quota = (code: string, delayMs?: number) =>
    JSON.stringify({ error: { code, ...(delayMs === undefined ? {} : { delayMs }) } })

  it('shows retryOn the body of a failed POST, and hands the caller that body', async () => {
    up.handle((_req, res) =>
      reply(res, 429, quota('billing'), { 'content-type': 'application/json' }),
    )
    const seen: string[] = []
    const fetch = make({
      retry: {
        baseDelay: 1,
        retryOn: (ctx) => {
          seen.push(new TextDecoder().decode(ctx.body))
          return JSON.parse(new TextDecoder().decode(ctx.body)).error.code === 'billing'
            ? false
            : undefined
        },
      },
    })
    const res = await post(fetch, {})
    expect(res.status).toBe(429)
    expect(await res.text()).toBe(quota('billing'))
    expect(seen).toEqual([quota('billing')])
    expect(up.requests).toHaveLength(1)
  })

  it('waits what retryAfter reads from the body when no header says', async () => {
    up.handle((_req, res, _seen, n) =>
      n === 0 ? reply(res, 429, quota('rate', 150)) : reply(res, 200, 'ok'),
    )
    const fetch = make({
      retry: {
        baseDelay: 1,
        maxDelay: 1,
        retryAfter: (ctx) => JSON.parse(new TextDecoder().decode(ctx.body)).error.delayMs,
      },
    })
    const started = performance.now()
    expect(await (await post(fetch, {})).text()).toBe('ok')
    expect(performance.now() - started).toBeGreaterThanOrEqual(145)
  })

  it('gives up at once when retryAfter asks more than maxRetryAfter', async () => {
    up.handle((_req, res) => reply(res, 429, quota('rate', 5_000)))
    const fetch = make({ retry: { maxRetryAfter: 1_000, retryAfter: () => 5_000 } })
    expect((await post(fetch, {})).status).toBe(429)
    expect(up.requests).toHaveLength(1)
  })

  it('streams a failed body past 64 KiB to the caller whole', async () => {
    const big = 'x'.repeat(100_000)
    up.handle((_req, res) => reply(res, 400, big))
    const fetch = make({
      retry: { retryOn: (ctx) => (ctx.body === undefined ? false : undefined) },
    })
    const res = await post(fetch, {})
    expect((await res.text()).length).toBe(big.length)
  })
})

describe('rateLimit actualCost on a live body', () => {
  it('settles the cost once the caller has read the body', async () => {
    up.handle((_req, res) => reply(res, 200, '{"used":1}'))
    const fetch = make({
      cache: false,
      rateLimit: {
        name: 'tokens',
        perMinute: 60,
        capacity: 20,
        cost: 10,
        mode: 'reject',
        actualCost: () => 1,
      },
    })
    // Unsettled, the third call would find none of its 10 tokens and be refused at once.
    for (let i = 0; i < 5; i++) await (await post(fetch, {})).text()
    expect(fetch.stats().rateLimitRejects).toBe(0)
  })

  it('keeps the estimate when the body is never read to its end', async () => {
    up.handle(async (_req, res) => {
      res.writeHead(200)
      res.write('{"used":')
      await delay(50)
      res.end('1}')
    })
    const fetch = make({
      cache: false,
      rateLimit: {
        name: 'tokens',
        perMinute: 60,
        capacity: 10,
        cost: 10,
        mode: 'reject',
        actualCost: () => 1,
      },
    })
    const res = await post(fetch, {})
    await res.body?.cancel()
    await expect(post(fetch, {})).rejects.toThrow(/rate-limit bucket "tokens"/)
  })
})
