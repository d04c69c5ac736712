import { createClient } from '@redis/client'
import { describe, expect, it } from 'vitest'
import { createFetch } from '../../src/fetch.js'
import { resolveOptions } from '../../src/options.js'
import { resolveRedis } from '../../src/redis/options.js'
import { redisUrl, testNamespace } from '../helpers/redis.js'
import { useUpstream } from '../helpers/upstream.js'

describe('resolveRedis', () => {
  it('leaves Redis off when the option is absent or false', () => {
    expect(resolveRedis(undefined)).toBe(false)
    expect(resolveRedis(false)).toBe(false)
  })

  it('reads a URL string as the URL to connect to, with the defaults', () => {
    expect(resolveRedis('redis://127.0.0.1:6390')).toEqual({
      target: { url: 'redis://127.0.0.1:6390' },
      timeout: 250,
      processes: 1,
      localShare: 1,
      onError: 'fallback',
      l1: false,
    })
  })

  it('takes a node-redis client, connected or not, as it is', () => {
    const client = createClient({ url: 'redis://127.0.0.1:6390' })
    expect(resolveRedis(client)).toMatchObject({ target: { client } })
    expect(resolveRedis({ client, timeout: 50 })).toMatchObject({ target: { client }, timeout: 50 })
  })

  it('gives each process 1/processes of a budget unless localShare says otherwise', () => {
    expect(resolveRedis({ url: 'rediss://h:6380', processes: 4 })).toMatchObject({
      localShare: 0.25,
    })
    expect(resolveRedis({ url: 'rediss://h', processes: 4, localShare: 0.5 })).toMatchObject({
      localShare: 0.5,
    })
  })

  it('fills in the L1 defaults when l1 is given', () => {
    expect(resolveRedis({ url: 'redis://h', l1: {} })).toMatchObject({
      l1: { maxEntries: 1_000, ttl: 1_000 },
    })
    expect(resolveRedis({ url: 'redis://h', l1: { ttl: 50 } })).toMatchObject({
      l1: { maxEntries: 1_000, ttl: 50 },
    })
  })

  it.each([
    [{ url: 'http://h' }, 'redis.url must be a redis:// or rediss:// URL, got "http://h/"'],
    ['not a url', 'redis.url must be a redis:// or rediss:// URL, got "not a url"'],
    [{ url: 5 }, 'redis.url must be a string, got 5'],
    [{}, 'redis must name exactly one of url and client'],
    [{ url: 'redis://h', client: {} }, 'redis must name exactly one of url and client'],
    [{ client: { get() {} } }, 'redis.client must be a node-redis client, got an object'],
    [{ url: 'redis://h', timeout: 0 }, 'redis.timeout must be a finite number ≥ 1, got 0'],
    [
      { url: 'redis://h', timeout: 2 ** 31 },
      'redis.timeout must be at most 2147483647 ms, got 2147483648',
    ],
    [{ url: 'redis://h', processes: 2e6 }, 'redis.processes must be at most 1000000, got 2000000'],
    [
      { url: 'redis://h', l1: { maxEntries: 1e9 } },
      'redis.l1.maxEntries must be at most 10000000, got 1000000000',
    ],
    [
      { url: 'redis://h', l1: { maxEntries: 2 ** 32 } },
      'redis.l1.maxEntries must be at most 10000000, got 4294967296',
    ],
    [
      { url: 'redis://h', l1: { ttl: 1e300 } },
      'redis.l1.ttl must be at most 2147483647 ms, got 1e+300',
    ],
    [{ url: 'redis://h', timeout: '1s' }, 'redis.timeout must be a number, got "1s"'],
    [{ url: 'redis://h', processes: 1.5 }, 'redis.processes must be an integer ≥ 1, got 1.5'],
    [{ url: 'redis://h', localShare: 2 }, 'redis.localShare must be in (0, 1], got 2'],
    [{ url: 'redis://h', onError: 'throw' }, 'redis.onError must be one of "fallback", "reject"'],
    [{ url: 'redis://h', l1: { max: 5 } }, 'redis.l1.max is not an option'],
    [{ url: 'redis://h', l1: { ttl: 0 } }, 'redis.l1.ttl must be a finite number ≥ 1, got 0'],
    [{ url: 'redis://h', pool: 2 }, 'redis.pool is not an option'],
    [42, 'redis must be an object or false, got 42'],
  ])('refuses %j, naming the option and the value', (value, message) => {
    expect(() => resolveRedis(value)).toThrow(message)
  })

  it('takes every bound itself', () => {
    expect(
      resolveRedis({
        url: 'redis://h',
        timeout: 2_147_483_647,
        processes: 1_000_000,
        l1: { maxEntries: 10_000_000, ttl: 2_147_483_647 },
      }),
    ).toMatchObject({
      timeout: 2_147_483_647,
      processes: 1_000_000,
      localShare: 1e-6,
      l1: { maxEntries: 10_000_000, ttl: 2_147_483_647 },
    })
  })

  it('never shows the password of a URL in a message', () => {
    expect(() => resolveRedis('http://user:s3cret@h')).toThrow('"http://user:***@h/"')
    expect(() => resolveRedis('http://user:s3cret@h')).not.toThrow('s3cret')
  })
})

describe('the redis option', () => {
  it('is validated when the instance is built', () => {
    expect(() => createFetch({ redis: { url: 'redis://h', timeout: -1 } })).toThrow(
      'redis.timeout must be a finite number ≥ 1, got -1',
    )
  })

  it('marks the cache shared, so that private responses are not stored', () => {
    expect(resolveOptions({ redis: 'redis://h' }).cache).toMatchObject({ shared: true })
    expect(resolveOptions({}).cache).toMatchObject({ shared: false })
  })
})

describe('the longest durations on Redis', () => {
  const { up, make } = useUpstream()

  it('still store an entry and a record by PX, and replay them', async () => {
    const max = 2_147_483_647
    const options = {
      redis: redisUrl(),
      namespace: testNamespace('bounds'),
      cache: { ttl: max, staleWhileRevalidate: max, staleIfError: max },
      idempotency: { ttl: max },
    }
    const [a, b] = [make(options), make(options)]
    const order = { method: 'POST', body: '{}', breakwater: { idempotencyKey: 'order-1' } }
    const cached = await (await a(`${up.url}/cached`)).text()
    const made = await (await a(`${up.url}/orders`, order)).text()
    expect(await (await b(`${up.url}/cached`)).text()).toBe(cached)
    expect(await (await b(`${up.url}/orders`, order)).text()).toBe(made)
    expect(up.requests.map((r) => r.url)).toEqual(['/cached', '/orders'])
  })
})
