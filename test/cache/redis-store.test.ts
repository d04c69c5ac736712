import { afterEach, describe, expect, it } from 'vitest'
import { createCacheStage } from '../../src/cache/cache-stage.js'
import { jsonCodec } from '../../src/cache/codec.js'
import { createRedisKeyv } from '../../src/cache/redis-store.js'
import { resolveOptions } from '../../src/options.js'
import { RedisConnection } from '../../src/redis/connection.js'
import { resolveRedis } from '../../src/redis/options.js'
import { isRedisUnavailable } from '../../src/redis/redis-client.js'
import { httpOutcome, makeCall, textOf } from '../helpers/call.js'
import { realContext, redisUrl, testNamespace } from '../helpers/redis.js'
import { freePort } from '../helpers/redis-server.js'

const connections: RedisConnection[] = []
afterEach(async () => {
  await Promise.all(connections.splice(0).map((c) => c.close()))
})

function setup(url = redisUrl(), ctx = realContext()) {
  const redis = resolveRedis({ url, timeout: 100 })
  const options = resolveOptions({ redis: url, cache: { ttl: 200 } })
  if (!redis || !options.cache) throw new Error('redis and cache expected')
  const connection = new RedisConnection(redis, testNamespace('store'), ctx)
  connections.push(connection)
  const keyv = createRedisKeyv(connection, { l1: false, maxTotalBytes: 1_000_000 })
  const cache = createCacheStage(ctx, options.cache, keyv, jsonCodec)
  return { ctx, connection, keyv, cache }
}

describe('the Redis cache store', () => {
  it('throws what Redis failed, so that errors are not read as misses', async () => {
    const { keyv, ctx } = setup(`redis://127.0.0.1:${await freePort()}`)
    const error = await keyv.get('k').catch((e: unknown) => e)
    expect(isRedisUnavailable(error)).toBe(true)
    await expect(keyv.set('k', 'v', 1_000)).rejects.toThrow('Redis is marked down')
    expect(ctx.counters.redisErrors).toBe(2)
  })

  it('round-trips an entry, body bytes included, under namespace:cache:key', async () => {
    const { keyv, connection } = setup()
    const call = makeCall({ key: 'roundtrip' })
    await keyv.set(call.key, { hello: 'world' }, 1_000)
    expect(await keyv.get(call.key)).toEqual({ hello: 'world' })
    const raw = await connection.command<string>(['GET', connection.key('cache', call.key)])
    expect(JSON.parse(raw)).toMatchObject({ value: { hello: 'world' } })
  })
})

describe('cache entries for a coalescer across processes', () => {
  it('hands out a fresh entry that the stage then does not store again', async () => {
    const { cache } = setup()
    const call = makeCall({ key: 'entries' })
    const stored = httpOutcome(200, 'shared')
    expect(await cache.entries.save(call, stored)).toBe(true)
    const found = await cache.entries.fresh(call)
    expect(found && textOf(found)).toBe('shared')
    expect(await cache.entries.save(call, found as typeof stored)).toBe(false)
  })

  it('finds nothing once the entry is no longer fresh', async () => {
    const { cache } = setup()
    const call = makeCall({ key: 'stale' })
    await cache.entries.save(call, httpOutcome(200, 'soon stale'))
    await new Promise((resolve) => setTimeout(resolve, 220))
    expect(await cache.entries.fresh(call)).toBeUndefined()
  })

  it('reports an outcome it may not store as not stored', async () => {
    const { cache } = setup()
    expect(await cache.entries.save(makeCall({ key: 'e500' }), httpOutcome(500))).toBe(false)
  })

  it('rejects when the store fails, so that a waiter stops waiting', async () => {
    const { cache } = setup(`redis://127.0.0.1:${await freePort()}`)
    await expect(cache.entries.fresh(makeCall({ key: 'down' }))).rejects.toThrow()
  })
})
