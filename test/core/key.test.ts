import { describe, expect, it } from 'vitest'
import { canonicalJson, httpKey, normalizeUrl, valueKey } from '../../src/core/key.js'

const parts = (over: Partial<Parameters<typeof httpKey>[0]> = {}) => ({
  method: 'GET',
  url: new URL('http://api.test/items?b=2&a=1'),
  headers: new Headers(),
  body: undefined,
  keyHeaders: ['accept'],
  custom: undefined,
  ...over,
})

describe('normalizeUrl', () => {
  it('sorts the query, drops the fragment and the default port', () => {
    expect(normalizeUrl(new URL('HTTP://Api.Test:80/x?b=2&a=1#frag'))).toBe(
      'http://api.test/x?a=1&b=2',
    )
    expect(normalizeUrl(new URL('https://api.test:443/x'))).toBe('https://api.test/x')
    expect(normalizeUrl(new URL('https://api.test:8443/x?'))).toBe('https://api.test:8443/x')
  })
})

describe('httpKey', () => {
  it('is a hex sha-256 that ignores query order', () => {
    const a = httpKey(parts())
    expect(a).toMatch(/^[0-9a-f]{64}$/)
    expect(httpKey(parts({ url: new URL('http://api.test/items?a=1&b=2') }))).toBe(a)
  })

  it('changes with method, body and the headers that change the answer', () => {
    const base = httpKey(parts())
    expect(httpKey(parts({ method: 'HEAD' }))).not.toBe(base)
    expect(httpKey(parts({ body: Buffer.from('x') }))).not.toBe(base)
    expect(httpKey(parts({ headers: new Headers({ accept: 'text/html' }) }))).not.toBe(base)
    expect(httpKey(parts({ headers: new Headers({ 'x-request-id': '1' }) }))).toBe(base)
  })

  it('separates credentials, and keeps them apart even under a custom key', () => {
    const alice = httpKey(parts({ headers: new Headers({ authorization: 'Bearer alice' }) }))
    const bob = httpKey(parts({ headers: new Headers({ authorization: 'Bearer bob' }) }))
    expect(alice).not.toBe(bob)
    expect(alice).not.toContain('alice')
    const customA = httpKey(parts({ custom: 'k', headers: new Headers({ 'x-api-key': 'a' }) }))
    const customB = httpKey(parts({ custom: 'k', headers: new Headers({ 'x-api-key': 'b' }) }))
    expect(customA).not.toBe(customB)
  })
})

describe('canonicalJson', () => {
  it('sorts object keys at every depth and drops undefined members', () => {
    expect(canonicalJson([{ b: 1, a: { d: 2, c: [3, { f: 1, e: undefined }] } }])).toBe(
      '[{"a":{"c":[3,{"f":1}],"d":2},"b":1}]',
    )
  })

  it('writes dates, maps, sets and bytes faithfully', () => {
    expect(canonicalJson(new Date(0))).toBe('"1970-01-01T00:00:00.000Z"')
    expect(
      canonicalJson(
        new Map([
          ['b', 1],
          ['a', 2],
        ]),
      ),
    ).toBe('{"a":2,"b":1}')
    expect(canonicalJson(new Set([1, 2]))).toBe('[1,2]')
    expect(canonicalJson(new Uint8Array([1, 2]))).toBe('"AQI="')
  })

  it('refuses cycles and functions with a TypeError naming options.key', () => {
    const cyclic: Record<string, unknown> = {}
    cyclic.self = cyclic
    expect(() => canonicalJson(cyclic)).toThrow(/cyclic.*options\.key/)
    expect(() => canonicalJson([() => 1])).toThrow(/function.*options\.key/)
  })

  it('keys two wrapped functions apart', () => {
    expect(valueKey('a', '[1]')).not.toBe(valueKey('b', '[1]'))
  })
})
