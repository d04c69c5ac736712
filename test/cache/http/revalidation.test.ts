import { describe, expect, it } from 'vitest'
import { reply, reset, useUpstream } from '../../helpers/upstream.js'
import { httpCacheSetup } from './setup.js'

const suite = useUpstream()
const { up } = suite

/** 200 with an ETag the first time, 304 (with `extra` headers) to every conditional request. */
const validating = (headers: Record<string, string>, extra: Record<string, string> = {}) =>
  up.handle((req, res, _seen, n) => {
    if (req.headers['if-none-match'] === '"v1"' || req.headers['if-modified-since'] !== undefined) {
      reply(res, 304, '', { ...headers, ...extra })
    } else reply(res, 200, `body ${n}`, headers)
  })

describe('revalidation under HTTP semantics', () => {
  it('revalidates a stale entry with If-None-Match and serves it updated by the 304', async () => {
    const { time, fetch, get } = httpCacheSetup(suite)
    validating({ 'cache-control': 'max-age=10', etag: '"v1"' }, { 'x-updated': 'yes' })
    await get('/etag')
    await time.advance(11_000)
    const revalidated = await get('/etag')
    expect(up.requests[1]?.headers['if-none-match']).toBe('"v1"')
    expect(revalidated.status).toBe(200)
    expect(revalidated.text).toBe('body 0')
    expect(revalidated.header('x-updated')).toBe('yes')
    expect(revalidated.header('cache-status')).toBe('breakwater; fwd=stale; fwd-status=304')
    // The 304 made it fresh again, its new field kept.
    const hit = await get('/etag')
    expect(hit.header('x-updated')).toBe('yes')
    expect(up.requests).toHaveLength(2)
    expect(fetch.stats()).toMatchObject({ revalidations: 1, notModified: 1, cacheHits: 1 })
  })

  it('revalidates with If-Modified-Since from Last-Modified', async () => {
    const { time, get } = httpCacheSetup(suite)
    const lastModified = 'Wed, 21 Oct 2015 07:28:00 GMT'
    validating({ 'cache-control': 'max-age=1', 'last-modified': lastModified })
    await get('/lm')
    await time.advance(2_000)
    expect((await get('/lm')).text).toBe('body 0')
    expect(up.requests[1]?.headers['if-modified-since']).toBe(lastModified)
  })

  it('stores a no-cache answer and revalidates it before every use', async () => {
    const { fetch, get } = httpCacheSetup(suite)
    validating({ 'cache-control': 'no-cache', etag: '"v1"' })
    await get('/nc')
    expect((await get('/nc')).text).toBe('body 0')
    expect((await get('/nc')).text).toBe('body 0')
    expect(up.requests.map((r) => r.headers['if-none-match'])).toEqual([undefined, '"v1"', '"v1"'])
    expect(fetch.stats()).toMatchObject({ revalidations: 2, notModified: 2, cacheHits: 0 })
  })

  it('fetches whole again when a 304 names another ETag than the stored one', async () => {
    const { time, get } = httpCacheSetup(suite)
    up.handle((req, res, _seen, n) => {
      if (req.headers['if-none-match'] !== undefined) reply(res, 304, '', { etag: '"other"' })
      else reply(res, 200, `body ${n}`, { 'cache-control': 'max-age=1', etag: '"v1"' })
    })
    await get('/mismatch')
    await time.advance(2_000)
    expect((await get('/mismatch')).text).toBe('body 2')
  })

  it("answers a caller's own conditional request with a 304 from a fresh entry", async () => {
    const { get } = httpCacheSetup(suite)
    validating({ 'cache-control': 'max-age=60', etag: '"v1"' })
    await get('/inm')
    const answer = await get('/inm', { headers: { 'if-none-match': 'W/"v1"' } })
    expect(answer.status).toBe(304)
    expect(answer.header('etag')).toBe('"v1"')
    expect(up.requests).toHaveLength(1)
  })

  it("serves stale while revalidating in the background, by the answer's own directive", async () => {
    const { time, fetch, get } = httpCacheSetup(suite)
    validating(
      { 'cache-control': 'max-age=1, stale-while-revalidate=60', etag: '"v1"' },
      { 'x-round': '2' },
    )
    await get('/swr')
    await time.advance(5_000)
    const stale = await get('/swr')
    expect(stale.header('cache-status')).toBe('breakwater; hit; ttl=-4')
    expect(stale.header('x-round')).toBeNull()
    await fetch.close()
    expect(up.requests).toHaveLength(2)
  })

  it("serves stale when the upstream fails, by the answer's own stale-if-error", async () => {
    const { time, fetch, get } = httpCacheSetup(suite)
    up.handle((_req, res) =>
      reply(res, 200, 'kept', { 'cache-control': 'max-age=1, stale-if-error=60' }),
    )
    await get('/sie')
    await time.advance(2_000)
    up.handle((_req, res) => reply(res, 503, 'down'))
    const served = await get('/sie')
    expect(served.text).toBe('kept')
    expect(served.header('cache-status')).toBe(
      'breakwater; fwd=stale; fwd-status=503; detail=stale-if-error',
    )
    up.handle(reset)
    expect((await get('/sie')).text).toBe('kept')
    expect(fetch.stats().staleServed).toBe(2)
  })

  it('lets must-revalidate beat a configured staleIfError', async () => {
    const { time, get } = httpCacheSetup(suite, { staleIfError: 60_000 })
    up.handle((_req, res) =>
      reply(res, 200, 'kept', { 'cache-control': 'max-age=1, must-revalidate' }),
    )
    await get('/mr-sie')
    await time.advance(2_000)
    up.handle((_req, res) => reply(res, 503, 'down'))
    expect((await get('/mr-sie')).status).toBe(503)
  })
})
