import { describe, expect, it } from 'vitest'
import { reply, useUpstream } from '../../helpers/upstream.js'
import { httpCacheSetup } from './setup.js'

const suite = useUpstream()
const { up } = suite

/** GETs are fresh for a minute; other methods answer `status` with the headers given. */
const serve = (status: number, headers: Record<string, string> = {}) =>
  up.handle((req, res, _seen, n) => {
    if (req.method === 'GET') reply(res, 200, `get ${n}`, { 'cache-control': 'max-age=60' })
    else reply(res, status, 'done', headers)
  })

describe('invalidation after unsafe methods (RFC 9111 §4.4)', () => {
  it.each(['POST', 'PUT', 'PATCH', 'DELETE'])(
    'drops the stored GET after a successful %s',
    async (method) => {
      const { get } = httpCacheSetup(suite)
      serve(200)
      await get('/item')
      const sent = await get('/item', method === 'DELETE' ? { method } : { method, body: '{}' })
      expect(sent.header('cache-status')).toBe('breakwater; fwd=method')
      expect((await get('/item')).text).toBe('get 2')
    },
  )

  it('drops every variant of the URL, HEAD answers included', async () => {
    const { get } = httpCacheSetup(suite)
    up.handle((req, res, _seen, n) => {
      if (req.method === 'POST') reply(res, 204)
      else reply(res, 200, `v ${n}`, { 'cache-control': 'max-age=60', vary: 'x-v' })
    })
    await get('/all', { headers: { 'x-v': '1' } })
    await get('/all', { headers: { 'x-v': '2' } })
    await get('/all', { method: 'HEAD' })
    await get('/all', { method: 'POST', body: 'x' })
    await get('/all', { headers: { 'x-v': '1' } })
    await get('/all', { headers: { 'x-v': '2' } })
    await get('/all', { method: 'HEAD' })
    expect(up.requests).toHaveLength(7)
  })

  it('drops the Location and Content-Location it names on the same origin only', async () => {
    const { get } = httpCacheSetup(suite)
    serve(201, { location: '/made', 'content-location': `${up.url}/described` })
    await get('/made')
    await get('/described')
    await get('/untouched')
    await get('/collection', { method: 'POST', body: 'x' })
    expect((await get('/made')).text).toBe('get 4')
    expect((await get('/described')).text).toBe('get 5')
    expect((await get('/untouched')).text).toBe('get 2')
  })

  it('ignores a Location on another origin, even one this cache holds', async () => {
    const { fetch } = httpCacheSetup(suite)
    // The same server under another name: another origin to the cache.
    const other = up.url.replace('127.0.0.1', 'localhost')
    serve(201, { location: `${other}/x` })
    await (await fetch(`${other}/x`)).text()
    await (await fetch(`${up.url}/collection`, { method: 'POST', body: 'x' })).text()
    expect(await (await fetch(`${other}/x`)).text()).toBe('get 0')
  })

  it('keeps the stored GET when the unsafe call failed', async () => {
    const { get } = httpCacheSetup(suite)
    serve(500)
    await get('/kept')
    await get('/kept', { method: 'PUT', body: 'x' })
    expect((await get('/kept')).text).toBe('get 0')
  })
})
