import { describe, expect, it } from 'vitest'
import { useUpstream } from '../../helpers/upstream.js'
import { httpCacheSetup } from './setup.js'

const suite = useUpstream()
const { up } = suite

describe("the request's Cache-Control and the Fetch cache modes", () => {
  it('goes upstream for no-cache, Pragma: no-cache and a max-age the entry is past', async () => {
    const { time, get, answer } = httpCacheSetup(suite)
    answer({ 'cache-control': 'max-age=600' })
    await get('/rq')
    await time.advance(10_000)
    const forced = await get('/rq', { headers: { 'cache-control': 'no-cache' } })
    expect(forced.header('cache-status')).toBe('breakwater; fwd=request; stored')
    await get('/rq', { headers: { pragma: 'no-cache' } })
    await time.advance(10_000)
    await get('/rq', { headers: { 'cache-control': 'max-age=5' } })
    expect(up.requests).toHaveLength(4)
    expect((await get('/rq', { headers: { 'cache-control': 'max-age=15' } })).text).toBe('answer 3')
  })

  it('honors min-fresh and max-stale (on an answer kept stale for its validator)', async () => {
    const { time, get, answer } = httpCacheSetup(suite)
    answer({ 'cache-control': 'max-age=60', etag: '"x"' })
    await get('/mf')
    await time.advance(50_000)
    await get('/mf', { headers: { 'cache-control': 'min-fresh=20' } })
    expect(up.requests).toHaveLength(2)
    await time.advance(90_000)
    const stale = await get('/mf', { headers: { 'cache-control': 'max-stale=60' } })
    expect(stale.text).toBe('answer 1')
    expect(stale.header('cache-status')).toBe('breakwater; hit; ttl=-30')
    await get('/mf', { headers: { 'cache-control': 'max-stale=10' } })
    expect(up.requests).toHaveLength(3)
  })

  it('never serves a must-revalidate answer stale, max-stale or not', async () => {
    const { time, get, answer } = httpCacheSetup(suite)
    answer({ 'cache-control': 'max-age=1, must-revalidate' })
    await get('/mr')
    expect((await get('/mr')).text).toBe('answer 0')
    await time.advance(2_000)
    await get('/mr', { headers: { 'cache-control': 'max-stale' } })
    expect(up.requests).toHaveLength(2)
  })

  it('answers only-if-cached from the store, or with a 504', async () => {
    const { get, answer } = httpCacheSetup(suite)
    answer({ 'cache-control': 'max-age=60' })
    const none = await get('/oic', { headers: { 'cache-control': 'only-if-cached' } })
    expect(none.status).toBe(504)
    expect(none.header('cache-status')).toBe('breakwater; detail=only-if-cached')
    await get('/oic')
    const kept = await get('/oic', { headers: { 'cache-control': 'only-if-cached' } })
    expect(kept.text).toBe('answer 0')
    expect(up.requests).toHaveLength(1)
  })

  it('reads init.cache: no-store, reload, no-cache, force-cache, only-if-cached', async () => {
    const { time, get, answer } = httpCacheSetup(suite)
    answer({ 'cache-control': 'max-age=60', etag: '"v1"' })
    await get('/mode', { cache: 'no-store' })
    expect((await get('/mode', { cache: 'only-if-cached' })).status).toBe(504)
    await get('/mode')
    expect((await get('/mode', { cache: 'reload' })).text).toBe('answer 2')
    expect((await get('/mode')).text).toBe('answer 2')
    const validated = await get('/mode', { cache: 'no-cache' })
    expect(up.requests[3]?.headers['if-none-match']).toBe('"v1"')
    expect(validated.text).toBe('answer 3')
    await time.advance(120_000)
    expect((await get('/mode', { cache: 'force-cache' })).text).toBe('answer 3')
    expect((await get('/mode', { cache: 'only-if-cached' })).text).toBe('answer 3')
    expect(up.requests).toHaveLength(4)
  })

  it('refuses an init.cache that is not a Fetch cache mode, naming it', async () => {
    const { fetch } = httpCacheSetup(suite)
    await expect(fetch(`${up.url}/x`, { cache: 'sometimes' as 'default' })).rejects.toThrow(
      /init\.cache must be one of default, no-store, reload, no-cache, force-cache, only-if-cached, got "sometimes"/,
    )
  })
})
