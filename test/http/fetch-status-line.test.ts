import Keyv from 'keyv'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import {
  type BreakwaterFetch,
  type CreateFetchOptions,
  createFetch,
  isBreakwaterError,
  isCircuitOpenError,
  isInvalidResponseError,
} from '../../src/index.js'
import { type RawUpstream, rawAnswer, startRawUpstream } from '../helpers/raw-upstream.js'

describe('createFetch with a status line no Response can carry', () => {
  let statusLine = 'HTTP/1.1 200 OK'
  let up: RawUpstream
  const opened: BreakwaterFetch[] = []
  const make = (options: CreateFetchOptions = {}) => {
    const fetch = createFetch(options)
    opened.push(fetch)
    return fetch
  }

  beforeAll(async () => {
    up = await startRawUpstream((n) => rawAnswer(statusLine, `answer ${n}`))
  })
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((f) => f.close()))
  })
  afterAll(() => up.close())

  it('answers a 2xx whose reason phrase is not Latin-1 with an empty one, then from the cache', async () => {
    statusLine = 'HTTP/1.1 200 OK ✓'
    const fetch = make()
    const before = up.arrivals
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${up.url}/check`)
      expect(res.status).toBe(200)
      expect(res.statusText).toBe('')
      expect(await res.text()).toBe(`answer ${before}`)
    }
    expect(up.arrivals - before).toBe(1)
    expect(fetch.stats().cacheHits).toBe(2)
  })

  it('passes such an answer through live with an empty reason phrase', async () => {
    statusLine = 'HTTP/1.1 201 Créé ✓'
    const fetch = make({ retry: false })
    const res = await fetch(`${up.url}/items`, { method: 'POST', body: 'x' })
    expect([res.status, res.statusText]).toEqual([201, ''])
    expect(await res.text()).toMatch(/^answer \d+$/)
  })

  it('keeps a Latin-1 reason phrase as sent, in a store that serializes it', async () => {
    statusLine = 'HTTP/1.1 200 Trés bien'
    const fetch = make({ cache: { store: new Keyv() } })
    await (await fetch(`${up.url}/latin`)).text()
    const hit = await fetch(`${up.url}/latin`)
    expect(hit.statusText).toBe('Trés bien')
    expect(fetch.stats().cacheHits).toBe(1)
  })

  it('reads an entry holding such a phrase as a miss and stores a good one over it', async () => {
    statusLine = 'HTTP/1.1 200 OK'
    const store = new Keyv()
    const fetch = make({ cache: { store } })
    await (await fetch(`${up.url}/old`)).text()
    // A GET is stored as the variants of its URL; each gets the phrase.
    for await (const [key, value] of store.iterator?.(store.namespace) ?? []) {
      const variants = value.variants.map((v: { outcome: object }) => ({
        ...v,
        outcome: { ...v.outcome, statusText: 'OK ✓' },
      }))
      await store.set(key, { ...value, variants })
    }
    const before = up.arrivals
    expect((await fetch(`${up.url}/old`)).statusText).toBe('OK')
    expect((await fetch(`${up.url}/old`)).statusText).toBe('OK')
    expect(up.arrivals - before).toBe(1)
    expect(fetch.stats()).toMatchObject({ cacheErrors: 1, cacheHits: 1 })
  })

  it('rejects a status past 599 with a classified error that names it', async () => {
    statusLine = 'HTTP/1.1 699 Odd'
    const fetch = make()
    const error = await fetch(`${up.url}/odd?token=secret`).catch((e: unknown) => e)
    expect(isInvalidResponseError(error)).toBe(true)
    expect(isBreakwaterError(error)).toBe(true)
    expect(error).toMatchObject({
      name: 'InvalidResponseError',
      code: 'INVALID_RESPONSE',
      status: 699,
      statusText: 'Odd',
    })
    expect((error as Error).message).toContain('status 699')
    expect((error as Error).message).toContain(`${up.url}/odd`)
    expect((error as Error).message).not.toContain('secret')
  })

  it('neither retries, stores nor counts towards the breaker a status past 599', async () => {
    statusLine = 'HTTP/1.1 999 Request denied'
    const fetch = make({
      retry: { maxAttempts: 3, baseDelay: 1 },
      breaker: { failureThreshold: 1, halfOpenAfter: 60_000 },
    })
    const before = up.arrivals
    for (let i = 0; i < 3; i++) {
      const error = await fetch(`${up.url}/denied`).catch((e: unknown) => e)
      expect(isInvalidResponseError(error), String(error)).toBe(true)
      expect(isCircuitOpenError(error)).toBe(false)
    }
    expect(up.arrivals - before).toBe(3)
    expect(fetch.stats()).toMatchObject({ retries: 0, cacheHits: 0, breakerOpens: 0 })
  })
})
