import { createHash, randomUUID } from 'node:crypto'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { RecordedOutcome } from '../../src/idempotency/record-store.js'
import { RedisRecordStore } from '../../src/idempotency/redis-record-store.js'
import { RedisConnection } from '../../src/redis/connection.js'
import { resolveRedis } from '../../src/redis/options.js'
import { isRedisUnavailable } from '../../src/redis/redis-client.js'
import { redisTimeMs } from '../../src/redis/scripts.js'
import { recordStoreConformance } from '../conformance/record-store.js'
import { rawClient, realContext, redisUrl, testNamespace } from '../helpers/redis.js'
import { freePort, RedisServer } from '../helpers/redis-server.js'

const connections: RedisConnection[] = []
afterAll(async () => {
  await Promise.all(connections.splice(0).map((c) => c.close()))
})

/** A connection of the test's own, under a namespace no other run or test uses. */
function connect(url = redisUrl(), namespace = testNamespace('records')) {
  const options = resolveRedis({ url, timeout: 250 })
  if (!options) throw new Error('redis expected')
  const connection = new RedisConnection(options, namespace, realContext())
  connections.push(connection)
  return connection
}

recordStoreConformance('RedisRecordStore', () => new RedisRecordStore(connect()))

const created: RecordedOutcome = {
  kind: 'http',
  status: 201,
  statusText: 'Created',
  headers: [['content-type', 'application/octet-stream']],
  body: new Uint8Array([0, 255, 1, 254]),
  url: 'http://127.0.0.1:1/orders',
}

describe('RedisRecordStore', () => {
  let raw: Awaited<ReturnType<typeof rawClient>>
  const stores: RedisRecordStore[] = []
  beforeAll(async () => {
    raw = await rawClient()
  })
  afterEach(async () => {
    await Promise.all(stores.splice(0).map((s) => s.close()))
  })
  afterAll(() => raw.destroy())

  const open = (namespace = testNamespace('records')) => {
    const store = new RedisRecordStore(connect(redisUrl(), namespace))
    stores.push(store)
    return { store, namespace }
  }
  const claimed = async (store: RedisRecordStore, key: string, fingerprint = 'fp') => {
    const claim = await store.claim(key, fingerprint, 30_000, 86_400_000)
    if (claim.status !== 'claimed') throw new Error(`not claimed: ${claim.status}`)
    return claim
  }

  it('keeps a record under namespace:idem:key, leased, then for its TTL', async () => {
    const { store, namespace } = open()
    const before = redisTimeMs(await raw.sendCommand(['TIME']))
    const { token } = await claimed(store, 'order-1')
    const key = `${namespace}:idem:order-1`
    const value = String(await raw.get(key))
    const held = /^bwrec1:i:[0-9a-f]{64}:(\d{15}):(\d{15}):0:(.+)$/.exec(value)
    // The lease's end on Redis' own clock, and what is kept abandoned past it: the claim's TTL.
    expect(Number(held?.[1]) - before).toBeGreaterThanOrEqual(30_000)
    expect(Number(held?.[1]) - before).toBeLessThan(90_000)
    expect(Number(held?.[2])).toBe(86_400_000)
    expect(held?.[3]).toBe(token)
    expect(await raw.pTTL(key)).toBeGreaterThan(86_400_000 + 29_000)
    await store.complete('order-1', token, created, 120_000)
    expect(await raw.get(key)).toMatch(/^bwrec1:d:[0-9a-f]{64}:\{/)
    expect(await raw.pTTL(key)).toBeGreaterThan(119_000)
  })

  it('leaves a record abandoned for its TTL when its lease lapses, judged on Redis’ clock', async () => {
    const { store, namespace } = open()
    const claim = await store.claim('lapse', 'fp', 100, 60_000)
    if (claim.status !== 'claimed') throw new Error(`not claimed: ${claim.status}`)
    expect(await store.markSent('lapse', claim.token)).toBe(true)
    const key = `${namespace}:idem:lapse`
    expect(await raw.get(key)).toMatch(/^bwrec1:i:[0-9a-f]{64}:\d{15}:\d{15}:2:/)
    // Pushed past its lease on Redis' clock alone: the key's own expiry is far off.
    const value = String(await raw.get(key))
    await raw.set(key, value.replace(/:(\d{15}):/, ':000000000000001:'), { PX: 60_000 })
    const taken = await store.claim('lapse', 'fp', 30_000, 60_000)
    expect(taken).toEqual({ status: 'claimed', token: expect.any(String), abandoned: true })
    if (taken.status !== 'claimed') throw new Error('not claimed')
    expect(await store.release('lapse', taken.token)).toBe(true)
    expect(await raw.get(key)).toMatch(/^bwrec1:a:[0-9a-f]{64}:\d{15}$/)
    expect(await raw.pTTL(key)).toBeGreaterThan(59_000)
    expect(await store.claim('lapse', 'other', 30_000, 60_000)).toEqual({ status: 'conflict' })
  })

  it('reads an in-flight record of the earlier layout as in flight until its key ends, then as free', async () => {
    const { store, namespace } = open()
    const key = `${namespace}:idem:old`
    const print = createHash('sha256').update('fp').digest('hex')
    await raw.set(key, `bwrec1:i:${print}:${randomUUID()}`, { PX: 300 })
    expect(await store.claim('old', 'fp', 30_000, 60_000)).toEqual({ status: 'inFlight' })
    expect(await store.claim('old', 'other', 30_000, 60_000)).toEqual({ status: 'conflict' })
    await store.wait('old', undefined)
    expect(await store.claim('old', 'fp', 30_000, 60_000)).toEqual({
      status: 'claimed',
      token: expect.any(String),
    })
  })

  it('replays body bytes exactly and a value of undefined as undefined', async () => {
    const { store } = open()
    const first = await claimed(store, 'bytes')
    await store.complete('bytes', first.token, created, 60_000)
    expect(await store.claim('bytes', 'fp', 30_000, 86_400_000)).toEqual({
      status: 'done',
      outcome: created,
      ttlLeft: expect.any(Number),
    })
    const second = await claimed(store, 'void')
    await store.complete('void', second.token, { kind: 'value', value: undefined }, 60_000)
    const again = await store.claim('void', 'fp', 30_000, 86_400_000)
    expect(again).toMatchObject({ status: 'done', outcome: { kind: 'value', value: undefined } })
  })

  it('records nothing for a value JSON cannot carry, and the record stays in flight', async () => {
    const { store } = open()
    const { token } = await claimed(store, 'bigint')
    await expect(
      store.complete('bigint', token, { kind: 'value', value: 1n }, 60_000),
    ).rejects.toThrow(TypeError)
    expect(await store.claim('bigint', 'fp', 30_000, 86_400_000)).toEqual({ status: 'inFlight' })
  })

  it('treats a foreign value, another type or a corrupt outcome as absent, and says so', async () => {
    const { store, namespace } = open()
    const print = createHash('sha256').update('fp').digest('hex')
    await raw.set(`${namespace}:idem:foreign`, 'somebody else wrote this')
    await raw.hSet(`${namespace}:idem:hash`, 'field', 'value')
    await raw.set(`${namespace}:idem:cut`, `bwrec1:d:${print}:{"kind":"http","body64":`)
    await raw.set(`${namespace}:idem:shape`, `bwrec1:d:${print}:{"kind":"http","status":"x"}`)
    for (const key of ['foreign', 'hash', 'cut', 'shape']) {
      const claim = await store.claim(key, 'fp', 30_000, 86_400_000)
      expect.soft(claim.status, key).toBe('claimed')
      expect.soft(claim.badRecord, key).toBeInstanceOf(Error)
      expect.soft(await raw.get(`${namespace}:idem:${key}`), key).toMatch(/^bwrec1:i:/)
    }
  })

  it('claims a done record whose outcome does not read back, reporting it, never serving it', async () => {
    const { store, namespace } = open()
    const { token } = await claimed(store, 'rotten')
    await store.complete('rotten', token, created, 60_000)
    const key = `${namespace}:idem:rotten`
    const stored = (await raw.get(key)) ?? ''
    await raw.set(key, `${stored.slice(0, 75)}{"kind":"http","status":201,"body64":7}`, {
      PX: 60_000,
    })
    const claim = await store.claim('rotten', 'fp', 30_000, 86_400_000)
    expect(claim.status).toBe('claimed')
    expect(claim.badRecord).toBeInstanceOf(Error)
    expect(await raw.get(key)).toMatch(/^bwrec1:i:/)
    // Not valid JSON at all, and a second store racing the first: one of them takes it.
    await raw.set(key, `${stored.slice(0, 75)}not json`, { PX: 60_000 })
    const [a, b] = await Promise.all([
      store.claim('rotten', 'fp', 30_000, 86_400_000),
      open(namespace).store.claim('rotten', 'fp', 30_000, 86_400_000),
    ])
    expect([a.status, b.status].sort()).toEqual(['claimed', 'inFlight'])
  })

  it('rejects with RedisUnavailableError when Redis is not there, for the caller to fall back', async () => {
    const store = new RedisRecordStore(connect(`redis://127.0.0.1:${await freePort()}`))
    stores.push(store)
    const error = await store.claim('k', 'fp', 30_000, 86_400_000).catch((e: unknown) => e)
    expect(isRedisUnavailable(error)).toBe(true)
    await expect(store.wait('k', undefined)).rejects.toThrow('Redis is marked down')
  })

  it('wakes its waiters when closed', async () => {
    const { store } = open()
    await claimed(store, 'held')
    const waiting = store.wait('held', undefined)
    await store.close()
    await expect(waiting).resolves.toBeUndefined()
  })
})

describe('RedisRecordStore on a Redis that goes away for a while', () => {
  let server: RedisServer
  beforeAll(async () => {
    server = await RedisServer.create()
  })
  afterAll(() => server.stop())

  it('releases a record whose release failed, once Redis answers again', async () => {
    const namespace = testNamespace('records-release')
    const [store, other] = [connect(server.url, namespace), connect(server.url, namespace)].map(
      (c) => new RedisRecordStore(c),
    ) as [RedisRecordStore, RedisRecordStore]
    const claim = await store.claim('k', 'fp', 30_000, 86_400_000)
    if (claim.status !== 'claimed') throw new Error(`not claimed: ${claim.status}`)
    await server.cli('CLIENT', 'PAUSE', '300', 'ALL')
    // One timeout marks Redis down: the release that follows is never sent.
    expect(
      isRedisUnavailable(await store.claim('x', 'fp', 30_000, 86_400_000).catch((e) => e)),
    ).toBe(true)
    await expect(store.release('k', claim.token)).rejects.toThrow('Redis is marked down')
    let status = ''
    for (let i = 0; i < 30 && status !== 'claimed'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100))
      // Any claim that gets through lets go of what failed before it.
      await store.claim(`probe-${i}`, 'fp', 1_000, 86_400_000).catch(() => undefined)
      status = (
        await other.claim('k', 'fp', 30_000, 86_400_000).catch(() => ({ status: 'failed' }))
      ).status
    }
    // Without it, the key would be in flight for the whole 30 s lease, with nobody behind it.
    expect(status).toBe('claimed')
    await Promise.all([store.close(), other.close()])
  })
})
