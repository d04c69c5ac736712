import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { RecordedOutcome, RecordStore } from '../../src/idempotency/record-store.js'
import { RedisConnection } from '../../src/redis/connection.js'
import { createSharedRecordStore } from '../../src/redis/fallback-record-store.js'
import { isRedisUnavailable } from '../../src/redis/redis-client.js'
import { resolveRedis } from '../../src/redis/redis-options.js'
import { recordStoreConformance } from '../conformance/record-store.js'
import { realContext, redisUrl, testNamespace } from '../helpers/redis.js'
import { RedisServer } from '../helpers/redis-server.js'
import { delay } from '../helpers/upstream.js'

const connections: RedisConnection[] = []
afterAll(async () => {
  await Promise.all(connections.splice(0).map((c) => c.close()))
})

function connect(url: string) {
  const options = resolveRedis({ url, timeout: 100 })
  if (!options) throw new Error('redis expected')
  const connection = new RedisConnection(options, testNamespace('fallback-records'), realContext())
  connections.push(connection)
  return connection
}

// With Redis up, the wrapper must be indistinguishable from the Redis store.
recordStoreConformance('FallbackRecordStore over a Redis that is up', () =>
  createSharedRecordStore(connect(redisUrl()), 100),
)

const value: RecordedOutcome = { kind: 'value', value: { id: 'ord_1' } }

describe('FallbackRecordStore', () => {
  let server: RedisServer
  const stores: RecordStore[] = []
  beforeAll(async () => {
    server = await RedisServer.create()
  })
  afterEach(async () => {
    await Promise.all(stores.splice(0).map((s) => s.close()))
    await server.start()
  })
  afterAll(() => server.stop())

  const open = () => {
    const connection = connect(server.url)
    const store = createSharedRecordStore(connection, 100)
    stores.push(store)
    return { store, connection }
  }
  const claimed = async (store: RecordStore, key: string) => {
    const claim = await store.claim(key, 'fp', 30_000)
    if (claim.status !== 'claimed') throw new Error(`not claimed: ${claim.status}`)
    return claim
  }
  /** Probes until the connection sees Redis again (its breaker lets one probe a second). */
  const back = async (store: RecordStore) => {
    for (let i = 0; i < 50; i++) {
      const claim = await store.claim(`probe-${i}`, 'fp', 1_000)
      if (claim.fallback === undefined) return
      await delay(100)
    }
    throw new Error('Redis did not come back')
  }

  it('claims in process when Redis fails, naming the failure, and never throws it', async () => {
    const { store } = open()
    await server.stop()
    const claim = await claimed(store, 'k')
    expect(isRedisUnavailable(claim.fallback)).toBe(true)
    expect(await store.claim('k', 'fp', 30_000)).toMatchObject({ status: 'inFlight' })
    expect(await store.claim('k', 'other', 30_000)).toMatchObject({ status: 'conflict' })
    expect(await store.complete('k', claim.token, value, 60_000)).toBe(true)
    expect(await store.claim('k', 'fp', 30_000)).toMatchObject({ status: 'done', outcome: value })
  })

  it('finishes a record where it was claimed, whatever Redis did meanwhile', async () => {
    const { store, connection } = open()
    await server.stop()
    const local = await claimed(store, 'local')
    await server.start()
    await back(store)
    expect(connection.down).toBe(false)
    // Claimed in process while Redis was down: finished in process, not looked for in Redis.
    expect(await store.renew('local', local.token, 30_000)).toBe(true)
    expect(await store.complete('local', local.token, value, 60_000)).toBe(true)
    // Claimed in Redis: Redis stopping makes finishing it fail, for the caller to let go.
    const shared = await claimed(store, 'shared')
    expect(shared.fallback).toBeUndefined()
    await server.stop()
    const error = await store.complete('shared', shared.token, value, 60_000).catch((e) => e)
    expect(isRedisUnavailable(error)).toBe(true)
  })

  it('ends a wait on Redis when Redis fails, so that the caller claims again', async () => {
    const { store } = open()
    await claimed(store, 'held')
    const waiting = store.wait('held', undefined)
    await delay(50)
    await server.stop()
    const started = performance.now()
    await waiting
    expect(performance.now() - started).toBeLessThan(1_000)
    const again = await store.claim('held', 'fp', 30_000)
    expect(again).toMatchObject({ status: 'claimed' })
    expect(again.fallback).toBeDefined()
  })

  it('gives a waiter its own abort, not a resolved wait, when Redis fails after it', async () => {
    const { store } = open()
    await claimed(store, 'held')
    const caller = new AbortController()
    const waiting = store.wait('held', caller.signal)
    caller.abort(new Error('caller left'))
    await expect(waiting).rejects.toThrow('caller left')
  })
})
