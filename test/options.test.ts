import { describe, expect, it } from 'vitest'
import { resolveCallOptions } from '../src/call-options.js'
import { resolveOptions } from '../src/options.js'

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
    expect(breaker.scope({ method: 'GET', url: '', origin: 'http://a' })).toBe('http://a')
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

describe('resolveCallOptions', () => {
  it('accepts the per-call options', () => {
    const o = resolveCallOptions({
      cache: false,
      ttl: 5,
      key: 'k',
      retry: false,
      timeout: 10,
      deadline: 100,
    })
    expect(o).toEqual({
      cache: false,
      ttl: 5,
      key: 'k',
      retry: false,
      coalesce: true,
      timeout: 10,
      deadline: 100,
    })
  })

  it.each([
    [{ ttl: -1 }, 'breakwater.ttl must be a finite number ≥ 0, got -1'],
    [{ retry: true }, 'breakwater.retry must be false, got true'],
    [{ key: 3 }, 'breakwater.key must be a non-empty string, got 3'],
    [{ tll: 3 }, 'breakwater.tll is not an option'],
    ['fast', 'breakwater must be an object, got "fast"'],
  ])('rejects %j naming the option', (value, message) => {
    expect(() => resolveCallOptions(value)).toThrow(message)
  })
})
