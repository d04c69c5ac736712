import { describe, expect, it } from 'vitest'
import type { StorePolicy } from '../../src/cache/freshness.js'
import {
  freshnessOf,
  parseCacheControl,
  planEntry,
  retentionOf,
} from '../../src/cache/freshness.js'
import type { HttpOutcome } from '../../src/core/outcome.js'
import { httpOutcome } from '../helpers/call.js'

const now = 1_000_000

const policy = (overrides: Partial<StorePolicy> = {}): StorePolicy => ({
  ttl: 60_000,
  callTtl: false,
  respectCacheControl: true,
  shared: false,
  staleWhileRevalidate: 0,
  staleIfError: 0,
  maxBodyBytes: 1_000,
  ...overrides,
})

const withCacheControl = (value: string): HttpOutcome =>
  httpOutcome(200, 'ok', [['cache-control', value]])

describe('parseCacheControl', () => {
  it('reads every directive it knows, whatever their case and spacing', () => {
    expect(
      parseCacheControl(
        ' No-Store ,NO-CACHE, private,Public , MAX-AGE=60, s-maxage = 30 ,Must-Revalidate,proxy-revalidate,' +
          'Stale-While-Revalidate=5, stale-if-error=6, max-stale=7, MIN-FRESH=8, only-if-cached',
      ),
    ).toEqual({
      noStore: true,
      noCache: true,
      private: true,
      public: true,
      maxAge: 60,
      sMaxAge: 30,
      mustRevalidate: true,
      proxyRevalidate: true,
      staleWhileRevalidate: 5,
      staleIfError: 6,
      maxStale: 7,
      minFresh: 8,
      onlyIfCached: true,
    })
  })

  it('reads a bare max-stale as any staleness', () => {
    expect(parseCacheControl('max-stale').maxStale).toBe(Number.POSITIVE_INFINITY)
  })

  it('reads nothing from a missing or empty header', () => {
    const none = {
      noStore: false,
      noCache: false,
      private: false,
      public: false,
      maxAge: undefined,
      sMaxAge: undefined,
      mustRevalidate: false,
      proxyRevalidate: false,
      staleWhileRevalidate: undefined,
      staleIfError: undefined,
      maxStale: undefined,
      minFresh: undefined,
      onlyIfCached: false,
    }
    expect(parseCacheControl(undefined)).toEqual(none)
    expect(parseCacheControl('')).toEqual(none)
    expect(parseCacheControl(' , ,')).toEqual(none)
  })

  it('unquotes values and does not split on commas inside quotes', () => {
    const cc = parseCacheControl('private="set-cookie, x-user", max-age="120", no-cache="a\\"b,c"')
    expect(cc).toMatchObject({ private: true, noCache: true, maxAge: 120, public: false })
  })

  it('reads a bad age as 0, which makes the response stale', () => {
    expect(parseCacheControl('max-age=abc').maxAge).toBe(0)
    expect(parseCacheControl('max-age=-5').maxAge).toBe(0)
    expect(parseCacheControl('max-age=1.5').maxAge).toBe(0)
    expect(parseCacheControl('max-age').maxAge).toBe(0)
    expect(parseCacheControl('s-maxage=').sMaxAge).toBe(0)
  })

  it('caps an age it cannot represent at 2^31 seconds', () => {
    expect(parseCacheControl('max-age=99999999999999999999999').maxAge).toBe(2_147_483_648)
  })

  it('keeps the first of two ages', () => {
    expect(parseCacheControl('max-age=10, max-age=20').maxAge).toBe(10)
  })

  it('ignores directives it does not know', () => {
    expect(parseCacheControl('immutable, stale-while-revalidate=30, max-age=5')).toMatchObject({
      maxAge: 5,
      noStore: false,
    })
  })
})

describe('planEntry', () => {
  it('keeps a plain 2xx fresh for the ttl, with no stale windows by default', () => {
    expect(planEntry(httpOutcome(), policy(), now)).toEqual({
      storedAt: now,
      freshUntil: now + 60_000,
      staleWhileRevalidateUntil: now + 60_000,
      staleIfErrorUntil: now + 60_000,
    })
  })

  it('opens both stale windows after freshness', () => {
    const times = planEntry(
      httpOutcome(),
      policy({ ttl: 100, staleWhileRevalidate: 50, staleIfError: 500 }),
      now,
    )
    expect(times).toEqual({
      storedAt: now,
      freshUntil: now + 100,
      staleWhileRevalidateUntil: now + 150,
      staleIfErrorUntil: now + 600,
    })
  })

  it('takes the lifetime from max-age over the configured ttl', () => {
    expect(planEntry(withCacheControl('max-age=5'), policy(), now)?.freshUntil).toBe(now + 5_000)
  })

  it('lets the call’s own ttl beat max-age', () => {
    const times = planEntry(withCacheControl('max-age=5'), policy({ ttl: 40, callTtl: true }), now)
    expect(times?.freshUntil).toBe(now + 40)
  })

  it('prefers s-maxage to max-age in a shared store only', () => {
    const outcome = withCacheControl('max-age=5, s-maxage=9')
    expect(planEntry(outcome, policy({ shared: true }), now)?.freshUntil).toBe(now + 9_000)
    expect(planEntry(outcome, policy({ shared: false }), now)?.freshUntil).toBe(now + 5_000)
  })

  it('closes the stale windows on must-revalidate', () => {
    const windows = policy({ staleWhileRevalidate: 1_000, staleIfError: 1_000 })
    const times = planEntry(withCacheControl('max-age=5, must-revalidate'), windows, now)
    expect(times).toEqual({
      storedAt: now,
      freshUntil: now + 5_000,
      staleWhileRevalidateUntil: now + 5_000,
      staleIfErrorUntil: now + 5_000,
    })
  })

  it('closes the stale windows on proxy-revalidate and s-maxage in a shared store only', () => {
    const windows = { staleWhileRevalidate: 1_000, staleIfError: 2_000 }
    for (const header of ['max-age=5, proxy-revalidate', 's-maxage=5']) {
      const shared = planEntry(withCacheControl(header), policy({ ...windows, shared: true }), now)
      expect(shared?.staleIfErrorUntil).toBe(shared?.freshUntil)
      const own = planEntry(withCacheControl(header), policy(windows), now)
      expect(own?.staleIfErrorUntil).toBe((own?.freshUntil ?? 0) + 2_000)
    }
  })

  it('does not store no-store, no-cache, or private in a shared store', () => {
    expect(planEntry(withCacheControl('no-store'), policy(), now)).toBeUndefined()
    expect(planEntry(withCacheControl('no-cache'), policy(), now)).toBeUndefined()
    expect(planEntry(withCacheControl('private'), policy({ shared: true }), now)).toBeUndefined()
    expect(planEntry(withCacheControl('private'), policy({ shared: false }), now)).toBeDefined()
  })

  it('stores an answer to Authorization in a shared store only when it says it may be shared', () => {
    const shared = policy({ shared: true, authorized: true })
    expect(planEntry(httpOutcome(), shared, now)).toBeUndefined()
    expect(planEntry(withCacheControl('max-age=5'), shared, now)).toBeUndefined()
    expect(
      planEntry(withCacheControl('max-age=5'), { ...shared, callTtl: true }, now),
    ).toBeUndefined()
    for (const header of [
      'public',
      'public, max-age=5',
      's-maxage=5',
      'max-age=5, must-revalidate',
    ]) {
      expect(planEntry(withCacheControl(header), shared, now), header).toBeDefined()
    }
    expect(planEntry(httpOutcome(), policy({ authorized: true }), now)).toBeDefined()
    expect(planEntry(httpOutcome(), policy({ shared: true }), now)).toBeDefined()
    const off = policy({ shared: true, authorized: true, respectCacheControl: false })
    expect(planEntry(httpOutcome(), off, now)).toBeDefined()
  })

  it('keeps no-store binding even when the call brings its own ttl', () => {
    const call = policy({ ttl: 1_000, callTtl: true })
    expect(planEntry(withCacheControl('no-store'), call, now)).toBeUndefined()
  })

  it('reads every cache-control line of the response', () => {
    const outcome = httpOutcome(200, 'ok', [
      ['cache-control', 'max-age=5'],
      ['cache-control', 'no-store'],
    ])
    expect(planEntry(outcome, policy(), now)).toBeUndefined()
  })

  it('ignores Cache-Control when told not to respect it', () => {
    const off = policy({ respectCacheControl: false })
    expect(planEntry(withCacheControl('no-store, max-age=5'), off, now)?.freshUntil).toBe(
      now + 60_000,
    )
  })

  it('does not store a zero lifetime unless a stale window follows it', () => {
    expect(planEntry(withCacheControl('max-age=0'), policy(), now)).toBeUndefined()
    expect(planEntry(httpOutcome(), policy({ ttl: 0 }), now)).toBeUndefined()
    const times = planEntry(withCacheControl('max-age=0'), policy({ staleIfError: 500 }), now)
    expect(times?.staleIfErrorUntil).toBe(now + 500)
    const strict = planEntry(
      withCacheControl('max-age=0, must-revalidate'),
      policy({ staleIfError: 500 }),
      now,
    )
    expect(strict).toBeUndefined()
  })

  it('stores 2xx answers only, and not a partial 206', () => {
    for (const status of [200, 201, 204, 299]) {
      expect(planEntry(httpOutcome(status), policy(), now), `status ${status}`).toBeDefined()
    }
    for (const status of [100, 206, 301, 304, 404, 429, 500, 503]) {
      expect(planEntry(httpOutcome(status), policy(), now), `status ${status}`).toBeUndefined()
    }
  })

  it('does not store a live body', () => {
    const live: HttpOutcome = { ...httpOutcome(), body: new ReadableStream<Uint8Array>() }
    expect(planEntry(live, policy(), now)).toBeUndefined()
  })

  it('stores an empty body', () => {
    const empty: HttpOutcome = { ...httpOutcome(204), body: null }
    expect(planEntry(empty, policy(), now)).toBeDefined()
  })

  it('stores a body of exactly maxBodyBytes and not one byte more', () => {
    const limit = policy({ maxBodyBytes: 10 })
    expect(planEntry(httpOutcome(200, 'x'.repeat(10)), limit, now)).toBeDefined()
    expect(planEntry(httpOutcome(200, 'x'.repeat(11)), limit, now)).toBeUndefined()
  })

  it('never stores a response that sets a cookie, whatever Cache-Control says', () => {
    const outcome = httpOutcome(200, 'ok', [
      ['cache-control', 'public, max-age=60'],
      ['set-cookie', 'sid=1'],
    ])
    expect(planEntry(outcome, policy(), now)).toBeUndefined()
    expect(planEntry(outcome, policy({ respectCacheControl: false }), now)).toBeUndefined()
  })

  it('never stores an event stream', () => {
    const outcome = httpOutcome(200, 'data: x\n\n', [
      ['content-type', 'Text/Event-Stream; charset=utf-8'],
    ])
    expect(planEntry(outcome, policy(), now)).toBeUndefined()
  })

  it('stores a value outcome for the ttl, with the stale windows', () => {
    const times = planEntry(
      { kind: 'value', value: { a: 1 } },
      policy({ ttl: 100, staleIfError: 50 }),
      now,
    )
    expect(times).toEqual({
      storedAt: now,
      freshUntil: now + 100,
      staleWhileRevalidateUntil: now + 100,
      staleIfErrorUntil: now + 150,
    })
    expect(planEntry({ kind: 'value', value: 1 }, policy({ ttl: 0 }), now)).toBeUndefined()
  })
})

describe('freshnessOf', () => {
  const times = {
    storedAt: 0,
    freshUntil: 100,
    staleWhileRevalidateUntil: 150,
    staleIfErrorUntil: 300,
  }

  it('gives each boundary to the later state', () => {
    expect(freshnessOf(times, 0)).toBe('fresh')
    expect(freshnessOf(times, 99)).toBe('fresh')
    expect(freshnessOf(times, 100)).toBe('stale')
    expect(freshnessOf(times, 149)).toBe('stale')
    expect(freshnessOf(times, 150)).toBe('staleIfError')
    expect(freshnessOf(times, 299)).toBe('staleIfError')
    expect(freshnessOf(times, 300)).toBe('expired')
  })

  it('goes straight from fresh to expired when there are no windows', () => {
    const bare = {
      storedAt: 0,
      freshUntil: 100,
      staleWhileRevalidateUntil: 100,
      staleIfErrorUntil: 100,
    }
    expect(freshnessOf(bare, 99)).toBe('fresh')
    expect(freshnessOf(bare, 100)).toBe('expired')
  })
})

describe('retentionOf', () => {
  it('keeps an entry until its last window closes', () => {
    const times = {
      storedAt: 0,
      freshUntil: 100,
      staleWhileRevalidateUntil: 400,
      staleIfErrorUntil: 300,
    }
    expect(retentionOf(times, 0)).toBe(400)
    expect(retentionOf(times, 250)).toBe(150)
    expect(retentionOf({ ...times, staleWhileRevalidateUntil: 100 }, 0)).toBe(300)
  })
})
