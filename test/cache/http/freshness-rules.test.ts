import { describe, expect, it } from 'vitest'
import { createManualTime } from '../../helpers/manual-time.js'
import { reply, useUpstream } from '../../helpers/upstream.js'

const { up, make } = useUpstream()

/** An answer counting upstream requests, with the headers given. */
const answer = (headers: Record<string, string>, status = 200) =>
  up.handle((_req, res, _seen, n) => reply(res, status, JSON.stringify({ n }), headers))

const setup = (cache: Record<string, unknown> = {}) => {
  const time = createManualTime()
  const fetch = make({ clock: time, timers: time, retry: false, timeout: 0, cache })
  const get = async (path: string, init: RequestInit = {}) => {
    const res = await fetch(`${up.url}${path}`, init)
    const text = await res.text()
    return { res, text, status: res.status, header: (name: string) => res.headers.get(name) }
  }
  const httpDate = (offsetMs: number) => new Date(time.now() + offsetMs).toUTCString()
  return { time, fetch, get, httpDate }
}

describe('RFC 9111 freshness under HTTP semantics', () => {
  it('takes max-age less the Age the answer arrived with', async () => {
    const { time, get } = setup()
    answer({ 'cache-control': 'max-age=60', age: '50' })
    await get('/age')
    await time.advance(9_000)
    expect((await get('/age')).header('age')).toBe('59')
    await time.advance(2_000)
    await get('/age')
    expect(up.requests).toHaveLength(2)
  })

  it('counts an answer whose Date lies in the past as that old', async () => {
    const { time, get, httpDate } = setup()
    up.handle((_req, res, _seen, n) =>
      reply(res, 200, String(n), { 'cache-control': 'max-age=60', date: httpDate(-55_000) }),
    )
    await get('/dated')
    await time.advance(3_000)
    await get('/dated')
    expect(up.requests).toHaveLength(1)
    await time.advance(3_000)
    await get('/dated')
    expect(up.requests).toHaveLength(2)
  })

  it('reads Expires against Date, and a malformed Expires as already past', async () => {
    const { time, get, httpDate } = setup()
    up.handle((_req, res) => reply(res, 200, 'x', { date: httpDate(0), expires: httpDate(30_000) }))
    await get('/expires')
    await time.advance(29_000)
    await get('/expires')
    expect(up.requests).toHaveLength(1)
    await time.advance(2_000)
    await get('/expires')
    expect(up.requests).toHaveLength(2)
    up.handle((_req, res) => reply(res, 200, 'x', { expires: 'tomorrow, probably' }))
    await get('/bad-expires')
    await get('/bad-expires')
    expect(up.requests).toHaveLength(4)
  })

  it('gives cache.ttl only to 200, 203 and 204 answers without freshness of their own', async () => {
    const { time, get } = setup({ ttl: 5_000 })
    answer({})
    await get('/plain')
    await get('/plain')
    expect(up.requests).toHaveLength(1)
    await time.advance(5_000)
    await get('/plain')
    expect(up.requests).toHaveLength(2)
    for (const status of [201, 202, 404, 410]) {
      answer({}, status)
      await get(`/status-${status}`)
      await get(`/status-${status}`)
    }
    expect(up.requests).toHaveLength(10)
  })

  it('stores a 404, a 410 and even a 503 that carry explicit freshness', async () => {
    const { get } = setup()
    for (const status of [404, 410, 503]) {
      answer({ 'cache-control': 'max-age=60' }, status)
      expect((await get(`/explicit-${status}`)).status).toBe(status)
      const again = await get(`/explicit-${status}`)
      expect(again.status).toBe(status)
      expect(again.header('cache-status')).toMatch(/^breakwater; hit; ttl=/)
    }
    expect(up.requests).toHaveLength(3)
  })

  it('sends Age and Cache-Status on every stored answer, and keeps the stored Date', async () => {
    const { time, get, httpDate } = setup()
    const date = httpDate(0)
    answer({ 'cache-control': 'max-age=100', date })
    const first = await get('/status')
    expect(first.header('cache-status')).toBe('breakwater; fwd=uri-miss; stored')
    await time.advance(40_000)
    const hit = await get('/status')
    expect(hit.header('age')).toBe('40')
    expect(hit.header('date')).toBe(date)
    expect(hit.header('cache-status')).toBe('breakwater; hit; ttl=60')
  })

  it('appends its Cache-Status member to one an upstream cache sent', async () => {
    const { get } = setup()
    answer({ 'cache-control': 'max-age=100', 'cache-status': 'ExampleCDN; hit' })
    await get('/cdn')
    expect((await get('/cdn')).header('cache-status')).toBe(
      'ExampleCDN; hit, breakwater; hit; ttl=100',
    )
  })

  it('never stores no-store, private (shared), or an answer without freshness or validator', async () => {
    const { get } = setup({ ttl: 0, shared: true })
    for (const cc of ['no-store', 'private, max-age=60', 'max-age=0']) {
      answer({ 'cache-control': cc })
      await get(`/${encodeURIComponent(cc)}`)
      await get(`/${encodeURIComponent(cc)}`)
    }
    expect(up.requests).toHaveLength(6)
  })

  it('keeps cache.ttl over Cache-Control outside HTTP semantics (respectCacheControl: false)', async () => {
    const { time, get } = setup({ ttl: 10_000, respectCacheControl: false })
    answer({ 'cache-control': 'no-store', vary: '*' })
    await get('/declared')
    const hit = await get('/declared')
    expect(hit.header('cache-status')).toBe('breakwater; hit; ttl=10')
    await time.advance(10_000)
    await get('/declared')
    expect(up.requests).toHaveLength(2)
  })

  it('says when a declared entry stood in for a failing upstream', async () => {
    const { time, get } = setup({ ttl: 1_000, staleIfError: 10_000, respectCacheControl: false })
    answer({})
    await get('/declared-sie')
    await time.advance(2_000)
    answer({}, 503)
    const served = await get('/declared-sie')
    expect(served.status).toBe(200)
    expect(served.header('cache-status')).toBe('breakwater; fwd=stale; detail=stale-if-error')
    expect(served.header('age')).toBe('2')
  })
})
