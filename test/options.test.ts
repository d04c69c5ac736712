import { describe, expect, it } from 'vitest'
import { resolveOptions } from '../src/options.js'
import { wrap } from '../src/wrap.js'
import { useUpstream } from './helpers/upstream.js'

describe('resolveOptions', () => {
  it('fills every default', () => {
    const o = resolveOptions({})
    expect(o.namespace).toBe('bw')
    expect(o.timeout).toBe(30_000)
    expect(o.coalesce).toBe(true)
    const { cache, retry, breaker } = o
    if (!cache || !retry || !breaker) throw new Error('a part is off by default')
    expect(cache.ttl).toBe(60_000)
    expect([...cache.methods]).toEqual(['GET', 'HEAD'])
    expect(retry.maxAttempts).toBe(4)
    expect(retry.budget).toEqual({ ratio: 0.2, minPerSecond: 10 })
    expect(breaker.failureThreshold).toBe(5)
    expect(
      breaker.scope({
        method: 'GET',
        url: '',
        origin: 'http://a',
        headers: undefined,
        body: undefined,
        args: undefined,
      }),
    ).toBe('http://a')
  })

  it('refuses null where a string is due, instead of falling back to the default', () => {
    expect(() => resolveOptions({ namespace: null })).toThrow(
      'namespace must be a non-empty string, got null',
    )
    expect(() => resolveOptions({ idempotency: { header: null } })).toThrow(
      'idempotency.header must be a header name, got null',
    )
    expect(() => wrap(async () => 1, { name: null as unknown as string })).toThrow(
      'name must be a non-empty string, got null',
    )
  })

  it('turns parts off with false', () => {
    const o = resolveOptions({ cache: false, retry: false, breaker: false })
    expect([o.cache, o.retry, o.breaker]).toEqual([false, false, false])
  })

  it.each([
    [{ retry: { maxAttempts: 0 } }, RangeError, 'retry.maxAttempts must be an integer ≥ 1, got 0'],
    [
      { retry: { maxAttempts: 1.5 } },
      RangeError,
      'retry.maxAttempts must be an integer ≥ 1, got 1.5',
    ],
    [
      { retry: { baseDelay: -1 } },
      RangeError,
      'retry.baseDelay must be a finite number ≥ 0, got -1',
    ],
    [{ cache: { ttl: Number.NaN } }, TypeError, 'cache.ttl must be a number, got NaN'],
    [{ cache: { ttl: '5s' } }, TypeError, 'cache.ttl must be a number, got "5s"'],
    [
      { timeout: Number.POSITIVE_INFINITY },
      RangeError,
      'timeout must be a finite number ≥ 0, got Infinity',
    ],
    [
      { retry: { jitter: 'random' } },
      RangeError,
      'retry.jitter must be one of "full", "equal", "decorrelated", "none", got "random"',
    ],
    [{ retry: { backoff: 'quadratic' } }, RangeError, 'retry.backoff must be one of'],
    [{ retry: { maxRetries: 3 } }, TypeError, 'retry.maxRetries is not an option'],
    [{ cache: { tll: 5 } }, TypeError, 'cache.tll is not an option'],
    [{ colaesce: true }, TypeError, 'options.colaesce is not an option'],
    [
      { retry: { statuses: [503, 999] } },
      TypeError,
      'retry.statuses must hold HTTP statuses (100-599), got 999',
    ],
    [
      { retry: { baseDelay: 500, maxDelay: 100 } },
      RangeError,
      'retry.maxDelay must be ≥ retry.baseDelay (500), got 100',
    ],
    [{ cache: { methods: 'GET' } }, TypeError, 'cache.methods must be an array, got "GET"'],
    [{ breaker: { scope: 'host' } }, TypeError, 'breaker.scope must be a function, got "host"'],
    [{ breaker: true }, TypeError, 'breaker must be an object or false, got true'],
    [{ onEvent: 1 }, TypeError, 'onEvent must be a function, got 1'],
    [
      { timers: { setTimeout } },
      TypeError,
      'timers must be an object with setTimeout() and clearTimeout(), got an object',
    ],
    [{ timeout: 2 ** 31 }, RangeError, 'timeout must be at most 2147483647 ms, got 2147483648'],
    [{ coalesce: 'yes' }, TypeError, 'coalesce must be a boolean, got "yes"'],
    [{ namespace: '' }, TypeError, 'namespace must be a non-empty string, got ""'],
    [{ cache: { store: {} } }, TypeError, 'cache.store must be a Keyv instance, got an object'],
    [
      { retry: { budget: { ratio: -0.1 } } },
      RangeError,
      'retry.budget.ratio must be a finite number ≥ 0, got -0.1',
    ],
  ])('rejects %j at once', (options, kind, message) => {
    expect(() => resolveOptions(options)).toThrow(kind)
    expect(() => resolveOptions(options)).toThrow(message)
  })
})

const max = 2_147_483_647

describe('the bounds of resolveOptions', () => {
  it.each([
    // Counts that size memory: lru-cache preallocates, and at 1e9 the process dies of it.
    [{ cache: { maxEntries: 1e9 } }, 'cache.maxEntries must be at most 10000000, got 1000000000'],
    [
      { cache: { maxEntries: 2 ** 32 } },
      'cache.maxEntries must be at most 10000000, got 4294967296',
    ],
    [
      { idempotency: { maxRecords: 1e8 } },
      'idempotency.maxRecords must be at most 10000000, got 100000000',
    ],
    [{ retry: { maxAttempts: 101 } }, 'retry.maxAttempts must be at most 100, got 101'],
    [
      { breaker: { failureThreshold: 1e7 } },
      'breaker.failureThreshold must be at most 1000000, got 10000000',
    ],
    [{ concurrency: 2e6 }, 'concurrency must be at most 1000000, got 2000000'],
    [{ concurrency: { limit: 2e6 } }, 'concurrency.limit must be at most 1000000, got 2000000'],
    // Durations: Redis refuses `PX 1e+300`, and a record kept "that long" is not kept at all.
    [{ cache: { ttl: 1e300 } }, 'cache.ttl must be at most 2147483647 ms, got 1e+300'],
    [{ idempotency: { ttl: 1e300 } }, 'idempotency.ttl must be at most 2147483647 ms, got 1e+300'],
    [
      { cache: { staleWhileRevalidate: max + 1 } },
      'cache.staleWhileRevalidate must be at most 2147483647 ms, got 2147483648',
    ],
    [
      { cache: { staleIfError: max + 1 } },
      'cache.staleIfError must be at most 2147483647 ms, got 2147483648',
    ],
    [
      { breaker: { halfOpenAfter: max + 1 } },
      'breaker.halfOpenAfter must be at most 2147483647 ms, got 2147483648',
    ],
    [
      { retry: { deadline: max + 1 } },
      'retry.deadline must be at most 2147483647 ms, got 2147483648',
    ],
    [{ retry: { deadline: 0 } }, 'retry.deadline must be a finite number ≥ 1, got 0'],
    [{ idempotency: { ttl: 0 } }, 'idempotency.ttl must be a finite number ≥ 1, got 0'],
    [{ idempotency: { lease: 50 } }, 'idempotency.lease must be a finite number ≥ 100, got 50'],
    // A server's wait is clamped to an hour: a longer limit could never be reached.
    [
      { retry: { maxRetryAfter: 3_600_001 } },
      'retry.maxRetryAfter must be at most 3600000, got 3600001',
    ],
    [
      { cache: { maxBodyBytes: 2 ** 53 } },
      'cache.maxBodyBytes must be at most 9007199254740991, got 9007199254740992',
    ],
    [
      { cache: { maxTotalBytes: 2 ** 53 } },
      'cache.maxTotalBytes must be at most 9007199254740991, got 9007199254740992',
    ],
    [{ retry: { budget: { ratio: 1.5 } } }, 'retry.budget.ratio must be at most 1, got 1.5'],
    [
      { retry: { budget: { minPerSecond: 1e7 } } },
      'retry.budget.minPerSecond must be at most 1000000, got 10000000',
    ],
  ])('refuses %j with a RangeError naming the option and the value', (options, message) => {
    expect(() => resolveOptions(options)).toThrow(RangeError)
    expect(() => resolveOptions(options)).toThrow(message)
  })

  it('takes every bound itself', () => {
    const o = resolveOptions({
      timeout: max,
      cache: {
        ttl: max,
        maxEntries: 10_000_000,
        maxBodyBytes: Number.MAX_SAFE_INTEGER,
        maxTotalBytes: Number.MAX_SAFE_INTEGER,
        staleWhileRevalidate: max,
        staleIfError: max,
      },
      retry: {
        maxAttempts: 100,
        baseDelay: max,
        maxDelay: max,
        maxRetryAfter: 3_600_000,
        deadline: max,
        budget: { ratio: 1, minPerSecond: 1_000_000 },
      },
      breaker: { failureThreshold: 1_000_000, halfOpenAfter: max },
      concurrency: 1_000_000,
      idempotency: { ttl: max, maxRecords: 10_000_000 },
    })
    expect(o).toMatchObject({
      cache: { ttl: max, maxEntries: 10_000_000 },
      retry: { maxAttempts: 100, maxRetryAfter: 3_600_000, deadline: max },
      breaker: { failureThreshold: 1_000_000, halfOpenAfter: max },
      concurrency: { limit: 1_000_000 },
      idempotency: { ttl: max, maxRecords: 10_000_000 },
    })
  })
})

describe('the longest durations', () => {
  const { up, make } = useUpstream()

  it('still cache, and still record and replay an idempotency key', async () => {
    const fetch = make({ cache: { ttl: max }, idempotency: { ttl: max } })
    await (await fetch(`${up.url}/cached`)).text()
    await (await fetch(`${up.url}/cached`)).text()
    const order = { method: 'POST', body: '{}', breakwater: { idempotencyKey: 'order-1' } }
    const first = await (await fetch(`${up.url}/orders`, order)).text()
    const again = await (await fetch(`${up.url}/orders`, order)).text()
    expect(again).toBe(first)
    expect(up.requests.map((r) => r.url)).toEqual(['/cached', '/orders'])
  })
})
