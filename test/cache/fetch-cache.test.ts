import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import Keyv from 'keyv'
import { describe, expect, it } from 'vitest'
import { delay, echoOf, reply, reset, useUpstream } from '../helpers/upstream.js'

const { up, make } = useUpstream()

describe('createFetch cache', () => {
  it('serves a repeated GET from the cache, each caller with its own readable body', async () => {
    const fetch = make()
    const first = await fetch(`${up.url}/items`)
    const second = await fetch(`${up.url}/items`)
    expect(await echoOf(first)).toEqual({ n: 0, method: 'GET', url: '/items' })
    expect(await echoOf(second)).toEqual({ n: 0, method: 'GET', url: '/items' })
    expect(second.url).toBe(`${up.url}/items`)
    expect(up.requests).toHaveLength(1)
    expect(fetch.stats()).toMatchObject({
      requests: 2,
      cacheHits: 1,
      cacheMisses: 1,
      hitRatio: 0.5,
    })
  })

  it('lets a cached entry expire after its TTL', async () => {
    const fetch = make({ cache: { ttl: 80 } })
    await (await fetch(`${up.url}/ttl`)).text()
    await (await fetch(`${up.url}/ttl`)).text()
    expect(up.requests).toHaveLength(1)
    await delay(120)
    const third = await fetch(`${up.url}/ttl`)
    expect((await echoOf(third)).n).toBe(1)
    expect(up.requests).toHaveLength(2)
  })

  it('honors a per-call ttl over the default', async () => {
    const fetch = make({ cache: { ttl: 60_000 } })
    await (await fetch(`${up.url}/short`, { breakwater: { ttl: 40 } })).text()
    await delay(70)
    await (await fetch(`${up.url}/short`)).text()
    expect(up.requests).toHaveLength(2)
  })

  it('never lets two Authorization values share an entry', async () => {
    const fetch = make()
    const alice = await fetch(`${up.url}/me`, { headers: { authorization: 'Bearer alice' } })
    const bob = await fetch(`${up.url}/me`, { headers: { authorization: 'Bearer bob' } })
    const aliceAgain = await fetch(`${up.url}/me`, { headers: { authorization: 'Bearer alice' } })
    expect((await echoOf(alice)).n).toBe(0)
    expect((await echoOf(bob)).n).toBe(1)
    expect((await echoOf(aliceAgain)).n).toBe(0)
    expect(up.requests).toHaveLength(2)
  })

  it('stores only 2xx answers', async () => {
    up.handle((_req, res) => reply(res, 404, 'nope'))
    const fetch = make()
    expect((await fetch(`${up.url}/missing`)).status).toBe(404)
    expect((await fetch(`${up.url}/missing`)).status).toBe(404)
    expect(up.requests).toHaveLength(2)
  })

  it('honors no-store, private on a shared store, max-age and Set-Cookie', async () => {
    const fetch = make()
    up.handle((_req, res) => reply(res, 200, 'x', { 'cache-control': 'no-store' }))
    await (await fetch(`${up.url}/no-store`)).text()
    await (await fetch(`${up.url}/no-store`)).text()
    up.handle((_req, res) => reply(res, 200, 'x', { 'set-cookie': 'sid=1' }))
    await (await fetch(`${up.url}/cookie`)).text()
    await (await fetch(`${up.url}/cookie`)).text()
    up.handle((_req, res) => reply(res, 200, 'x', { 'cache-control': 'max-age=0' }))
    await (await fetch(`${up.url}/max-age-0`)).text()
    await (await fetch(`${up.url}/max-age-0`)).text()
    expect(up.requests).toHaveLength(6)
  })

  it('ignores Cache-Control when respectCacheControl is false', async () => {
    const fetch = make({ cache: { respectCacheControl: false } })
    up.handle((_req, res) => reply(res, 200, 'x', { 'cache-control': 'no-store' }))
    await (await fetch(`${up.url}/ignored`)).text()
    await (await fetch(`${up.url}/ignored`)).text()
    expect(up.requests).toHaveLength(1)
  })

  it('caches POST only by opt-in, keyed by body', async () => {
    const plain = make()
    await (await plain(`${up.url}/q`, { method: 'POST', body: '{"q":1}' })).text()
    await (await plain(`${up.url}/q`, { method: 'POST', body: '{"q":1}' })).text()
    expect(up.requests).toHaveLength(2)
    const optIn = make({ cache: { methods: ['GET', 'POST'] } })
    await (await optIn(`${up.url}/q`, { method: 'POST', body: '{"q":1}' })).text()
    await (await optIn(`${up.url}/q`, { method: 'POST', body: '{"q":1}' })).text()
    await (await optIn(`${up.url}/q`, { method: 'POST', body: '{"q":2}' })).text()
    expect(up.requests).toHaveLength(4)
  })

  it('passes a body larger than maxBodyBytes through whole, uncached', async () => {
    const big = 'x'.repeat(50_000)
    up.handle((_req, res) => reply(res, 200, big, { 'content-type': 'text/plain' }))
    const fetch = make({ cache: { maxBodyBytes: 1_000 } })
    expect(await (await fetch(`${up.url}/big`)).text()).toBe(big)
    expect(await (await fetch(`${up.url}/big`)).text()).toBe(big)
    expect(up.requests).toHaveLength(2)
  })

  it('never caches an event stream, and streams it as it arrives', async () => {
    up.handle(async (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      res.write('data: one\n\n')
      await delay(30)
      res.end('data: two\n\n')
    })
    const fetch = make()
    const res = await fetch(`${up.url}/events`)
    const reader = (res.body as ReadableStream<Uint8Array>).getReader()
    const first = await reader.read()
    expect(new TextDecoder().decode(first.value)).toBe('data: one\n\n')
    while (!(await reader.read()).done) {}
    await (await fetch(`${up.url}/events`)).text()
    expect(up.requests).toHaveLength(2)
  })

  it('serves stale while revalidating once in the background', async () => {
    const fetch = make({ cache: { ttl: 150, staleWhileRevalidate: 10_000 } })
    await (await fetch(`${up.url}/swr`)).text()
    await delay(180)
    const stale = await Promise.all(Array.from({ length: 10 }, () => fetch(`${up.url}/swr`)))
    for (const res of stale) expect((await echoOf(res)).n).toBe(0)
    await delay(30)
    expect(up.requests).toHaveLength(2)
    expect((await echoOf(await fetch(`${up.url}/swr`))).n).toBe(1)
    expect(fetch.stats()).toMatchObject({ staleServed: 10, cacheHits: 1 })
  })

  it('serves stale when the upstream fails, network errors included', async () => {
    const fetch = make({ cache: { ttl: 30, staleIfError: 10_000 }, retry: false })
    await (await fetch(`${up.url}/sie`)).text()
    await delay(50)
    up.handle((_req, res) => reply(res, 503, 'down'))
    expect((await echoOf(await fetch(`${up.url}/sie`))).n).toBe(0)
    up.handle(reset)
    expect((await echoOf(await fetch(`${up.url}/sie`))).n).toBe(0)
    expect(fetch.stats().staleServed).toBe(2)
  })

  it('bypasses the cache for a call that says cache: false', async () => {
    const fetch = make()
    await (await fetch(`${up.url}/bypass`)).text()
    await (await fetch(`${up.url}/bypass`, { breakwater: { cache: false } })).text()
    expect(up.requests).toHaveLength(2)
  })

  it('reports hits and misses to onEvent and diagnostics_channel', async () => {
    const seen: string[] = []
    const published: unknown[] = []
    const onHit = (message: unknown) => published.push(message)
    subscribe('breakwater:cache:hit', onHit)
    try {
      const fetch = make({ onEvent: (e) => seen.push(e.type) })
      await (await fetch(`${up.url}/ev?token=secret`)).text()
      await (await fetch(`${up.url}/ev?token=secret`)).text()
    } finally {
      unsubscribe('breakwater:cache:hit', onHit)
    }
    expect(seen).toEqual(['miss', 'hit'])
    expect(published).toHaveLength(1)
    expect(JSON.stringify(published[0])).not.toContain('secret')
    expect(published[0]).toMatchObject({ type: 'hit', method: 'GET', target: `${up.url}/ev` })
  })

  it('sends through the fetch it is given', async () => {
    const sent: string[] = []
    const fetch = make({
      fetch: (input, init) => {
        sent.push(input)
        return globalThis.fetch(input, init as RequestInit)
      },
    })
    await (await fetch(`${up.url}/given`)).text()
    expect(sent).toEqual([`${up.url}/given`])
  })

  it('works over any Keyv store, one that serializes with JSON included', async () => {
    const store = new Keyv()
    const fetch = make({ cache: { store } })
    await (await fetch(`${up.url}/keyv`)).text()
    const again = await fetch(`${up.url}/keyv`)
    expect((await echoOf(again)).n).toBe(0)
    expect(up.requests).toHaveLength(1)
    expect(fetch.stats()).toMatchObject({ cacheHits: 1, cacheErrors: 0 })
  })

  it('does not store a private answer in a given (shared) store', async () => {
    up.handle((_req, res) => reply(res, 200, 'mine', { 'cache-control': 'private, max-age=60' }))
    const fetch = make({ cache: { store: new Keyv() } })
    await (await fetch(`${up.url}/private`)).text()
    await (await fetch(`${up.url}/private`)).text()
    expect(up.requests).toHaveLength(2)
  })

  it('fails open when the store fails, counting errors apart from misses', async () => {
    const broken = new Keyv({ store: new Map(), throwOnErrors: true })
    broken.get = async () => {
      throw new Error('store down')
    }
    const fetch = make({ cache: { store: broken } })
    const res = await fetch(`${up.url}/broken-store`)
    expect(res.status).toBe(200)
    expect(fetch.stats()).toMatchObject({ cacheErrors: 1, cacheMisses: 1 })
  })
})

describe('createFetch cache.admission', () => {
  const fill = async (fetch: ReturnType<typeof make>, paths: string[]) => {
    for (const path of paths) await (await fetch(`${up.url}${path}`)).text()
  }

  it("evicts by recency alone with 'lru': a new key always gets in", async () => {
    const fetch = make({ cache: { maxEntries: 2, admission: 'lru' } })
    await fill(fetch, ['/lru-a', '/lru-a', '/lru-b', '/lru-c'])
    const before = up.requests.length
    await fill(fetch, ['/lru-a'])
    expect(up.requests.length).toBe(before + 1)
  })

  it('keeps a popular entry from a one-off key under the default tinylfu', async () => {
    const fetch = make({ cache: { maxEntries: 2 } })
    await fill(fetch, ['/tlfu-a', '/tlfu-a', '/tlfu-b', '/tlfu-c'])
    const before = up.requests.length
    await fill(fetch, ['/tlfu-a'])
    expect(up.requests.length).toBe(before)
  })
})
