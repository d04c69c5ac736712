import { describe, expect, it } from 'vitest'
import { type BreakwaterEvent, isIdempotencyConflictError } from '../../src/index.js'
import { reply, reset, useUpstream } from '../helpers/upstream.js'

const { up, make } = useUpstream()
const fast = { baseDelay: 5, maxDelay: 20 }
const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

const keysSent = () => up.requests.map((r) => r.headers['idempotency-key'])
const order = (key: string, body = '{"sku":"a1"}') => ({
  method: 'POST',
  body,
  breakwater: { idempotencyKey: key },
})

describe('createFetch idempotency keys', () => {
  it('sends a POST with a minted key, the same on every retry of the call', async () => {
    up.handle((_req, res, _seen, i) => (i < 2 ? reply(res, 503, 'busy') : reply(res, 201, 'made')))
    const fetch = make({ retry: fast })
    const res = await fetch(`${up.url}/orders`, { method: 'POST', body: '{}' })
    expect(res.status).toBe(201)
    const keys = keysSent()
    expect(keys).toHaveLength(3)
    expect(keys[0]).toMatch(uuid)
    expect(new Set(keys).size).toBe(1)
  })

  it('gives two logical calls two different keys', async () => {
    const fetch = make()
    await (await fetch(`${up.url}/orders`, { method: 'POST', body: '{}' })).text()
    await (await fetch(`${up.url}/orders`, { method: 'PATCH', body: '{}' })).text()
    const [first, second] = keysSent()
    expect(first).toMatch(uuid)
    expect(second).toMatch(uuid)
    expect(first).not.toBe(second)
  })

  it('sends the caller’s own key, from the per-call option or the header, and leaves its Headers alone', async () => {
    const fetch = make()
    const headers = new Headers({ 'content-type': 'application/json' })
    const init = { method: 'POST', body: '{}', headers }
    await (await fetch(`${up.url}/a`, { ...init, breakwater: { idempotencyKey: 'opt-1' } })).text()
    await (await fetch(`${up.url}/b`, { ...init, headers: { 'Idempotency-Key': 'hdr-1' } })).text()
    expect(keysSent()).toEqual(['opt-1', 'hdr-1'])
    expect(headers.has('idempotency-key')).toBe(false)
  })

  it('does not touch a GET', async () => {
    const fetch = make()
    await (await fetch(`${up.url}/items`)).text()
    expect(keysSent()).toEqual([undefined])
  })
})

describe('createFetch idempotent replay', () => {
  it('answers a repeated key with the recorded response, without an upstream call', async () => {
    up.handle((_req, res) => reply(res, 201, '{"id":"ord_1"}', { 'x-order': '1' }))
    const events: BreakwaterEvent[] = []
    const fetch = make({ onEvent: (e) => events.push(e) })
    const first = await fetch(`${up.url}/orders`, order('order-42'))
    expect(await first.text()).toBe('{"id":"ord_1"}')
    expect(first.headers.get('idempotent-replayed')).toBeNull()
    const again = await fetch(`${up.url}/orders`, order('order-42'))
    expect(again.status).toBe(201)
    expect(again.headers.get('x-order')).toBe('1')
    expect(again.headers.get('idempotent-replayed')).toBe('true')
    expect(await again.text()).toBe('{"id":"ord_1"}')
    expect(up.requests).toHaveLength(1)
    expect(fetch.stats()).toMatchObject({ idempotentReplays: 1, upstreamCalls: 1, callsSaved: 1 })
    expect(events.filter((e) => e.type === 'replay')).toHaveLength(1)
  })

  it('replays a 4xx the server meant, such as 422', async () => {
    up.handle((_req, res) => reply(res, 422, 'invalid sku'))
    const fetch = make()
    await (await fetch(`${up.url}/orders`, order('order-43'))).text()
    const again = await fetch(`${up.url}/orders`, order('order-43'))
    expect([again.status, await again.text()]).toEqual([422, 'invalid sku'])
    expect(up.requests).toHaveLength(1)
  })

  it('fails with IdempotencyConflictError when the key comes back with another body', async () => {
    const fetch = make()
    await (await fetch(`${up.url}/orders`, order('order-44', '{"sku":"a1"}'))).text()
    const error = await fetch(`${up.url}/orders`, order('order-44', '{"sku":"b2"}')).catch(
      (e: unknown) => e,
    )
    expect(isIdempotencyConflictError(error)).toBe(true)
    expect((error as Error).message).toContain('order-44')
    expect(up.requests).toHaveLength(1)
  })

  it('makes a concurrent duplicate wait for the first call’s response', async () => {
    let answer = () => {}
    up.handle((_req, res) => {
      answer = () => reply(res, 201, 'once')
    })
    const fetch = make()
    const first = fetch(`${up.url}/orders`, order('order-45'))
    const second = fetch(`${up.url}/orders`, order('order-45'))
    await expect.poll(() => up.requests.length).toBe(1)
    answer()
    const [a, b] = await Promise.all([first, second])
    expect([await a.text(), await b.text()]).toEqual(['once', 'once'])
    expect(b.headers.get('idempotent-replayed')).toBe('true')
    expect(up.requests).toHaveLength(1)
  })

  it('fails a concurrent duplicate with IdempotencyConflictError under concurrent: reject', async () => {
    let answer = () => {}
    up.handle((_req, res) => {
      answer = () => reply(res, 201, 'once')
    })
    const fetch = make({ idempotency: { concurrent: 'reject' } })
    const first = fetch(`${up.url}/orders`, order('order-46'))
    await expect.poll(() => up.requests.length).toBe(1)
    const error = await fetch(`${up.url}/orders`, order('order-46')).catch((e: unknown) => e)
    expect(isIdempotencyConflictError(error)).toBe(true)
    answer()
    expect(await (await first).text()).toBe('once')
  })

  it.each([
    ['a 503', 503],
    ['a 429', 429],
  ])('does not record %s: the next call with the key goes upstream', async (_name, status) => {
    up.handle((_req, res, _seen, i) => (i === 0 ? reply(res, status, 'no') : reply(res, 201, 'ok')))
    const fetch = make({ retry: false })
    expect((await fetch(`${up.url}/orders`, order('order-47'))).status).toBe(status)
    const again = await fetch(`${up.url}/orders`, order('order-47'))
    expect([again.status, await again.text()]).toEqual([201, 'ok'])
    expect(up.requests).toHaveLength(2)
  })

  it('does not record a network error: the next call with the key goes upstream', async () => {
    up.handle((req, res, _seen, i) => (i === 0 ? reset(req) : reply(res, 201, 'ok')))
    const fetch = make({ retry: false })
    await expect(fetch(`${up.url}/orders`, order('order-48'))).rejects.toThrow()
    const again = await fetch(`${up.url}/orders`, order('order-48'))
    expect(await again.text()).toBe('ok')
    expect(up.requests).toHaveLength(2)
  })
})
