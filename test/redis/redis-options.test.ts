import { createClient } from '@redis/client'
import { describe, expect, it } from 'vitest'
import { createFetch } from '../../src/fetch.js'
import { resolveOptions } from '../../src/options.js'
import { resolveRedis } from '../../src/redis/redis-options.js'

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
    [{ url: 'redis://h', timeout: 0 }, 'redis.timeout must be at least 1 ms, got 0'],
    [{ url: 'redis://h', timeout: '1s' }, 'redis.timeout must be a number, got "1s"'],
    [{ url: 'redis://h', processes: 1.5 }, 'redis.processes must be an integer ≥ 1, got 1.5'],
    [{ url: 'redis://h', localShare: 2 }, 'redis.localShare must be in (0, 1], got 2'],
    [{ url: 'redis://h', onError: 'throw' }, 'redis.onError must be one of "fallback", "reject"'],
    [{ url: 'redis://h', l1: { max: 5 } }, 'redis.l1.max is not an option'],
    [{ url: 'redis://h', l1: { ttl: 0 } }, 'redis.l1.ttl must be at least 1 ms, got 0'],
    [{ url: 'redis://h', pool: 2 }, 'redis.pool is not an option'],
    [42, 'redis must be an object or false, got 42'],
  ])('refuses %j, naming the option and the value', (value, message) => {
    expect(() => resolveRedis(value)).toThrow(message)
  })

  it('never shows the password of a URL in a message', () => {
    expect(() => resolveRedis('http://user:s3cret@h')).toThrow('"http://user:***@h/"')
    expect(() => resolveRedis('http://user:s3cret@h')).not.toThrow('s3cret')
  })
})

describe('the redis option', () => {
  it('is validated when the instance is built', () => {
    expect(() => createFetch({ redis: { url: 'redis://h', timeout: -1 } })).toThrow(
      'redis.timeout must be a finite number ≥ 0, got -1',
    )
  })

  it('marks the cache shared, so that private responses are not stored', () => {
    expect(resolveOptions({ redis: 'redis://h' }).cache).toMatchObject({ shared: true })
    expect(resolveOptions({}).cache).toMatchObject({ shared: false })
  })
})
