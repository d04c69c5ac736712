import { describe, expect, it } from 'vitest'
import { checkIdempotencyKey, resolveCallOptions } from '../../src/core/call-options.js'
import { wrap } from '../../src/wrap.js'
import { useUpstream } from '../helpers/upstream.js'

const max = 2_147_483_647
const buckets = [{ name: 'rpm' }, { name: 'tpm' }]

describe('resolveCallOptions', () => {
  it('accepts the per-call options', () => {
    const o = resolveCallOptions(
      {
        cache: false,
        ttl: 5,
        key: 'k',
        retry: false,
        timeout: 10,
        deadline: 100,
        idempotencyKey: 'order 42',
        cost: { tpm: 1_200 },
        tags: ['user:42', 'user:42', 'team:1'],
      },
      buckets,
    )
    expect(o).toEqual({
      cache: false,
      ttl: 5,
      key: 'k',
      retry: false,
      coalesce: true,
      timeout: 10,
      deadline: 100,
      idempotencyKey: 'order 42',
      cost: { tpm: 1_200 },
      tags: ['user:42', 'team:1'],
    })
  })

  it('takes every bound itself', () => {
    const o = resolveCallOptions(
      { ttl: max, timeout: max, deadline: max, cost: Number.MAX_SAFE_INTEGER },
      [],
    )
    expect(o).toMatchObject({ ttl: max, timeout: max, deadline: max })
    expect(resolveCallOptions({ cost: { rpm: 0 } }, buckets).cost).toEqual({ rpm: 0 })
  })

  it.each([
    [{ ttl: -1 }, 'breakwater.ttl must be a finite number ≥ 0, got -1'],
    [{ ttl: 1e300 }, 'breakwater.ttl must be at most 2147483647 ms, got 1e+300'],
    [{ timeout: max + 1 }, 'breakwater.timeout must be at most 2147483647 ms, got 2147483648'],
    [{ deadline: 0 }, 'breakwater.deadline must be a finite number ≥ 1, got 0'],
    [{ deadline: max + 1 }, 'breakwater.deadline must be at most 2147483647 ms, got 2147483648'],
    [{ cost: -1 }, 'breakwater.cost must be a finite number ≥ 0, got -1'],
    [{ cost: 2 ** 53 }, 'breakwater.cost must be at most 9007199254740991, got 9007199254740992'],
    [
      { cost: { rpm: Number.POSITIVE_INFINITY } },
      'breakwater.cost.rpm must be a finite number ≥ 0, got Infinity',
    ],
    [
      { cost: { unknown: 1 } },
      'breakwater.cost.unknown names no rate-limit bucket of this instance; known: "rpm", "tpm"',
    ],
    [{ retry: true }, 'breakwater.retry must be false, got true'],
    [{ key: 3 }, 'breakwater.key must be a non-empty string, got 3'],
    [{ tll: 3 }, 'breakwater.tll is not an option'],
    ['fast', 'breakwater must be an object, got "fast"'],
  ])('refuses %j naming the option and the value', (value, message) => {
    expect(() => resolveCallOptions(value, buckets)).toThrow(message)
  })

  it('refuses a cost by name on an instance without buckets', () => {
    expect(() => resolveCallOptions({ cost: { unknown: 1 } }, [])).toThrow(RangeError)
    expect(() => resolveCallOptions({ cost: { unknown: 1 } }, [])).toThrow(
      'breakwater.cost.unknown names no rate-limit bucket of this instance; known: none',
    )
  })
})

describe('checkIdempotencyKey', () => {
  it('takes printable ASCII up to 255 characters, inner spaces included', () => {
    for (const key of ['a', 'order 42', '~!#$%', 'k'.repeat(255)]) {
      expect(checkIdempotencyKey('breakwater.idempotencyKey', key)).toBe(key)
    }
  })

  it.each([
    ['a\r\nb', 'must be printable ASCII with no space at either end, got "a\\r\\nb"'],
    ['a\nX-Admin: 1', 'must be printable ASCII with no space at either end, got "a\\nX-Admin: 1"'],
    ['tab\tkey', 'must be printable ASCII with no space at either end, got "tab\\tkey"'],
    [' padded', 'must be printable ASCII with no space at either end, got " padded"'],
    ['padded ', 'must be printable ASCII with no space at either end, got "padded "'],
    ['clé', 'must be printable ASCII with no space at either end, got "clé"'],
    ['k'.repeat(256), 'must be at most 255 characters, got 256'],
    ['', 'must be a non-empty string, got ""'],
    [42, 'must be a non-empty string, got 42'],
  ])('refuses %j with a TypeError naming the option', (key, message) => {
    expect(() => checkIdempotencyKey('breakwater.idempotencyKey', key)).toThrow(TypeError)
    expect(() => checkIdempotencyKey('breakwater.idempotencyKey', key)).toThrow(
      `breakwater.idempotencyKey ${message}`,
    )
  })
})

describe('per-call options of createFetch', () => {
  const { up, make } = useUpstream()

  it.each([
    [
      { idempotencyKey: 'a\r\nb' },
      TypeError,
      'breakwater.idempotencyKey must be printable ASCII with no space at either end, got "a\\r\\nb"',
    ],
    [
      { cost: { unknown: 1 } },
      RangeError,
      'breakwater.cost.unknown names no rate-limit bucket of this instance; known: none',
    ],
    [{ ttl: 1e300 }, RangeError, 'breakwater.ttl must be at most 2147483647 ms, got 1e+300'],
  ])(
    'reject the call for %j, never throwing at once, sending nothing',
    async (per, kind, message) => {
      const fetch = make()
      let pending: Promise<Response> | undefined
      expect(() => {
        pending = fetch(`${up.url}/orders`, { method: 'POST', body: '{}', breakwater: per })
      }).not.toThrow()
      await expect(pending).rejects.toThrow(kind)
      await expect(pending).rejects.toThrow(message)
      expect(up.requests).toHaveLength(0)
    },
  )

  it('names the known buckets when a cost names another', async () => {
    const fetch = make({ rateLimit: [{ name: 'rpm', perMinute: 600 }] })
    await expect(fetch(`${up.url}/a`, { breakwater: { cost: { unknown: 1 } } })).rejects.toThrow(
      'breakwater.cost.unknown names no rate-limit bucket of this instance; known: "rpm"',
    )
    expect(up.requests).toHaveLength(0)
  })
})

describe("wrap's idempotencyKey", () => {
  it('rejects the call when the key it returns could not be sent as a header', async () => {
    let calls = 0
    const create = wrap(
      async (_order: string) => {
        calls++
        return 'made'
      },
      { idempotencyKey: (order) => order },
    )
    try {
      await expect(create('a\r\nb')).rejects.toThrow(
        'idempotencyKey(...) must be printable ASCII with no space at either end, got "a\\r\\nb"',
      )
      expect(await create('order-1')).toBe('made')
      expect(calls).toBe(1)
    } finally {
      await create.close()
    }
  })
})
