import { describe, expect, it } from 'vitest'
import { delay, reply, useUpstream } from '../../helpers/upstream.js'
import { httpCacheSetup } from './setup.js'

const suite = useUpstream()
const { up } = suite

describe('Vary under HTTP semantics', () => {
  it('keeps every variant of a URL apart and serves each to its own requests', async () => {
    const { get } = httpCacheSetup(suite)
    up.handle((req, res, _seen, n) =>
      reply(res, 200, `${req.headers['x-lang']} ${n}`, {
        'cache-control': 'max-age=60',
        vary: 'X-Lang',
      }),
    )
    const en = await get('/v', { headers: { 'x-lang': 'en' } })
    const fr = await get('/v', { headers: { 'x-lang': 'fr' } })
    expect([en.text, fr.text]).toEqual(['en 0', 'fr 1'])
    expect(fr.header('cache-status')).toBe('breakwater; fwd=vary-miss; stored')
    expect((await get('/v', { headers: { 'x-lang': 'en' } })).text).toBe('en 0')
    expect((await get('/v', { headers: { 'x-lang': 'fr' } })).text).toBe('fr 1')
    expect((await get('/v')).text).toBe('undefined 2')
    expect(up.requests).toHaveLength(3)
  })

  it('compares list values with their spaces normalized', async () => {
    const { get } = httpCacheSetup(suite)
    up.handle((_req, res, _seen, n) =>
      reply(res, 200, String(n), { 'cache-control': 'max-age=60', vary: 'x-list' }),
    )
    await get('/list', { headers: { 'x-list': 'a,b' } })
    expect((await get('/list', { headers: { 'x-list': 'a, b' } })).text).toBe('0')
  })

  it('never stores an answer that says Vary: *', async () => {
    const { get } = httpCacheSetup(suite)
    up.handle((_req, res, _seen, n) =>
      reply(res, 200, String(n), { 'cache-control': 'max-age=60', vary: 'accept, *' }),
    )
    await get('/star')
    expect((await get('/star')).text).toBe('1')
  })

  it('does not hand a concurrent caller an answer that varies on a field it sent otherwise', async () => {
    const { get } = httpCacheSetup(suite)
    up.handle(async (req, res, _seen, n) => {
      await delay(30)
      reply(res, 200, `${req.headers['x-user-agent']} ${n}`, {
        vary: 'x-user-agent',
        'cache-control': 'max-age=60',
      })
    })
    const [a, b, a2] = await Promise.all([
      get('/flight', { headers: { 'x-user-agent': 'a' } }),
      get('/flight', { headers: { 'x-user-agent': 'b' } }),
      get('/flight', { headers: { 'x-user-agent': 'a' } }),
    ])
    expect(a.text.startsWith('a ')).toBe(true)
    expect(b.text.startsWith('b ')).toBe(true)
    expect(a2.text).toBe(a.text)
    expect(up.requests).toHaveLength(2)
  })
})
