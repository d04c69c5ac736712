import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { BreakwaterEvent } from '../../src/core/events.js'
import { type BreakwaterFetch, type CreateFetchOptions, createFetch } from '../../src/fetch.js'
import { rawClient, redisUrl, testNamespace } from '../helpers/redis.js'
import { delay, reply, startUpstream, type Upstream } from '../helpers/upstream.js'

describe('the shared cache on Redis', () => {
  let upstream: Upstream
  let redis: Awaited<ReturnType<typeof rawClient>>
  const opened: BreakwaterFetch[] = []

  beforeAll(async () => {
    upstream = await startUpstream()
    redis = await rawClient()
  })
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((f) => f.close()))
  })
  afterAll(async () => {
    redis.destroy()
    await upstream.close()
  })

  const open = (options: CreateFetchOptions = {}) => {
    const fetch = createFetch({ redis: redisUrl(), retry: false, ...options })
    opened.push(fetch)
    return fetch
  }
  const keysOf = (namespace: string) => redis.keys(`${namespace}:cache:*`)

  it('serves what one instance stored to another instance', async () => {
    const namespace = testNamespace('shared')
    const [a, b] = [open({ namespace }), open({ namespace })]
    const url = `${upstream.url}/shared`
    const first = await (await a(url)).json()
    const second = await (await b(url)).json()
    expect(second).toEqual(first)
    expect(upstream.requests.filter((r) => r.url === '/shared')).toHaveLength(1)
    expect(b.stats()).toMatchObject({ cacheHits: 1, cacheMisses: 0, upstreamCalls: 0 })
    expect(await keysOf(namespace)).toHaveLength(1)
  })

  it('lets entries expire by Redis PX, the cache TTL', async () => {
    const namespace = testNamespace('ttl')
    const a = open({ namespace, cache: { ttl: 300 } })
    await (await a(`${upstream.url}/ttl`)).text()
    const [key] = await keysOf(namespace)
    const pttl = await redis.pTTL(String(key))
    expect(pttl).toBeGreaterThan(200)
    expect(pttl).toBeLessThanOrEqual(300)
    await delay(350)
    expect(await redis.exists(String(key))).toBe(0)
  })

  it('keeps the shared entries when an instance closes', async () => {
    const namespace = testNamespace('close')
    const a = open({ namespace })
    await (await a(`${upstream.url}/kept`)).text()
    await a.close()
    const b = open({ namespace })
    await (await b(`${upstream.url}/kept`)).text()
    expect(b.stats().cacheHits).toBe(1)
  })

  it('answers from the in-process L1 within its TTL, then from Redis again', async () => {
    const namespace = testNamespace('l1')
    const a = open({ namespace, redis: { url: redisUrl(), l1: { ttl: 200 } } })
    const url = `${upstream.url}/l1`
    await (await a(url)).text()
    await redis.del(await keysOf(namespace))
    await (await a(url)).text()
    expect(a.stats()).toMatchObject({ cacheHits: 1, upstreamCalls: 1 })
    await delay(250)
    await (await a(url)).text()
    expect(a.stats()).toMatchObject({ cacheHits: 1, upstreamCalls: 2 })
  })

  it.each([
    ['text that is not JSON', 'not json {'],
    ['JSON that is not an envelope', '[1,2,3]'],
    ['an envelope around a foreign value', '{"value":{"hello":"world"}}'],
    ['an entry with a broken body', '{"value":{"times":{},"outcome":{"kind":"http","body64":7}}}'],
  ])('treats %s under its key as a reported miss, never serving it', async (_, corrupt) => {
    const namespace = testNamespace('corrupt')
    const seen: BreakwaterEvent[] = []
    const a = open({ namespace, onEvent: (e) => seen.push(e) })
    const url = `${upstream.url}/corrupt`
    await (await a(url)).text()
    const [key] = await keysOf(namespace)
    await redis.set(String(key), corrupt, { PX: 10_000 })
    const b = open({ namespace, onEvent: (e) => seen.push(e) })
    const res = await b(url)
    expect(res.status).toBe(200)
    expect(await res.text()).toContain('"url":"/corrupt"')
    expect(b.stats()).toMatchObject({ cacheHits: 0, cacheMisses: 1, cacheErrors: 1 })
    expect(b.stats().redisErrors).toBe(0)
    expect(seen.filter((e) => e.type === 'cacheError')).toHaveLength(1)
    // The good entry written by the call replaces the bad one.
    await (await b(url)).text()
    expect(b.stats().cacheHits).toBe(1)
  })

  it('treats a value of another Redis type under its key as a reported miss', async () => {
    const namespace = testNamespace('wrongtype')
    const a = open({ namespace })
    const url = `${upstream.url}/wrongtype`
    await (await a(url)).text()
    const [key] = await keysOf(namespace)
    await redis.del(String(key))
    await redis.hSet(String(key), 'field', 'value')
    const res = await a(url)
    expect(res.status).toBe(200)
    await res.text()
    expect(a.stats()).toMatchObject({ cacheHits: 0, cacheMisses: 2, upstreamCalls: 2 })
    expect(a.stats().cacheErrors).toBeGreaterThanOrEqual(1)
    expect(a.stats().redisErrors).toBe(0)
    await redis.del(String(key))
  })

  it('does not store a private response in the shared cache', async () => {
    const namespace = testNamespace('private')
    upstream.handle((_req, res) => reply(res, 200, 'mine', { 'cache-control': 'private' }))
    const a = open({ namespace })
    await (await a(`${upstream.url}/private`)).text()
    expect(await keysOf(namespace)).toEqual([])
  })
})
