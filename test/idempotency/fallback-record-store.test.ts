import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import {
  createSharedRecordStore,
  FallbackRecordStore,
} from '../../src/idempotency/fallback-record-store.js'
import { MemoryRecordStore } from '../../src/idempotency/memory-record-store.js'
import type { RecordedOutcome, RecordStore } from '../../src/idempotency/record-store.js'
import { RedisConnection } from '../../src/redis/connection.js'
import { resolveRedis } from '../../src/redis/options.js'
import { isRedisUnavailable, RedisUnavailableError } from '../../src/redis/redis-client.js'
import { recordStoreConformance } from '../conformance/record-store.js'
import { realContext, redisUrl, testNamespace } from '../helpers/redis.js'
import { RedisServer } from '../helpers/redis-server.js'
import { delay } from '../helpers/upstream.js'

const connections: RedisConnection[] = []
afterAll(async () => {
  await Promise.all(connections.splice(0).map((c) => c.close()))
})

function connect(url: string, namespace = testNamespace('fallback-records')) {
  const options = resolveRedis({ url, timeout: 100 })
  if (!options) throw new Error('redis expected')
  const connection = new RedisConnection(options, namespace, realContext())
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

  /** A store with a connection of its own; two on one namespace are two processes. */
  const open = (namespace?: string) => {
    const connection = connect(server.url, namespace)
    const store = createSharedRecordStore(connection, 100)
    stores.push(store)
    return { store, connection }
  }
  const claimed = async (store: RecordStore, key: string) => {
    const claim = await store.claim(key, 'fp', 30_000, 86_400_000)
    if (claim.status !== 'claimed') throw new Error(`not claimed: ${claim.status}`)
    return claim
  }
  /** Probes until the connection sees Redis again (its breaker lets one probe a second). */
  const back = async (store: RecordStore) => {
    for (let i = 0; i < 50; i++) {
      const claim = await store.claim(`probe-${i}`, 'fp', 1_000, 86_400_000)
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
    expect(await store.claim('k', 'fp', 30_000, 86_400_000)).toMatchObject({ status: 'inFlight' })
    expect(await store.claim('k', 'other', 30_000, 86_400_000)).toMatchObject({
      status: 'conflict',
    })
    expect(await store.complete('k', claim.token, value, 60_000)).toBe(true)
    expect(await store.claim('k', 'fp', 30_000, 86_400_000)).toMatchObject({
      status: 'done',
      outcome: value,
    })
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

  it('tells of a record abandoned in Redis, its own copy gone with the lease', async () => {
    // Two stores on one Redis, as two processes: the first one's holder stalls past its lease.
    const namespace = testNamespace('fallback-records')
    const [stalled, { store }] = [open(namespace).store, open(namespace)]
    const first = await stalled.claim('lapsed', 'fp', 60, 60_000)
    if (first.status !== 'claimed') throw new Error(`not claimed: ${first.status}`)
    expect(await stalled.markSent('lapsed', first.token)).toBe(true)
    await delay(150)
    expect(await store.claim('lapsed', 'fp', 30_000, 60_000)).toMatchObject({
      status: 'claimed',
      abandoned: true,
    })
    // The stalled process's copy ended with its lease: it asks Redis, which says who holds it.
    expect(await stalled.claim('lapsed', 'fp', 30_000, 60_000)).toEqual({ status: 'inFlight' })
  })

  it('keeps a record abandoned in process when its lease lapses while Redis is down', async () => {
    const { store } = open()
    await server.stop()
    const first = await store.claim('down', 'fp', 60, 60_000)
    if (first.status !== 'claimed') throw new Error(`not claimed: ${first.status}`)
    expect(isRedisUnavailable(first.fallback)).toBe(true)
    expect(await store.markSent('down', first.token)).toBe(true)
    await delay(150)
    const taken = await store.claim('down', 'fp', 30_000, 60_000)
    expect(taken).toMatchObject({ status: 'claimed', abandoned: true })
  })

  it('ends a wait on Redis when Redis fails, so that the caller claims again', async () => {
    // Two stores on one Redis, as two processes: the holder is the other one.
    const namespace = testNamespace('fallback-records')
    const [holder, { store }] = [open(namespace).store, open(namespace)]
    await claimed(holder, 'held')
    const waiting = store.wait('held', undefined)
    await delay(50)
    await server.stop()
    const started = performance.now()
    await waiting
    expect(performance.now() - started).toBeLessThan(1_000)
    const again = await store.claim('held', 'fp', 30_000, 86_400_000)
    expect(again).toMatchObject({ status: 'claimed' })
    expect(again.fallback).toBeDefined()
  })

  it('gives a waiter its own abort, not a resolved wait, when Redis fails after it', async () => {
    const namespace = testNamespace('fallback-records')
    const [holder, { store }] = [open(namespace).store, open(namespace)]
    await claimed(holder, 'held')
    const caller = new AbortController()
    const waiting = store.wait('held', caller.signal)
    caller.abort(new Error('caller left'))
    await expect(waiting).rejects.toThrow('caller left')
  })

  it('replays what it recorded through Redis when Redis fails the repeat', async () => {
    const { store } = open()
    const claim = await claimed(store, 'k')
    expect(claim.fallback).toBeUndefined()
    expect(await store.complete('k', claim.token, value, 60_000)).toBe(true)
    await server.stop()
    const repeat = await store.claim('k', 'fp', 30_000, 86_400_000)
    expect(repeat).toMatchObject({ status: 'done', outcome: value })
    // Answered from what this process knows: Redis was not asked, so nothing fell back.
    expect(repeat.fallback).toBeUndefined()
    expect(await store.claim('k', 'other', 30_000, 86_400_000)).toMatchObject({
      status: 'conflict',
    })
  })

  it('makes a repeat wait for a key it runs under a Redis claim, and replays it', async () => {
    const { store } = open()
    const claim = await claimed(store, 'running')
    await server.stop()
    expect(await store.claim('running', 'fp', 30_000, 86_400_000)).toMatchObject({
      status: 'inFlight',
    })
    const waiting = store.wait('running', undefined)
    // Redis is gone: the outcome cannot be recorded there, and is here.
    const error = await store.complete('running', claim.token, value, 60_000).catch((e) => e)
    expect(isRedisUnavailable(error)).toBe(true)
    await waiting
    expect(await store.claim('running', 'fp', 30_000, 86_400_000)).toMatchObject({
      status: 'done',
      outcome: value,
    })
    // The call's own release after a failed complete leaves the outcome where it is.
    await store.release('running', claim.token).catch(() => false)
    expect((await store.claim('running', 'fp', 30_000, 86_400_000)).status).toBe('done')
  })

  it('replays what Redis replayed to it after Redis restarts empty, until its TTL ends', async () => {
    const namespace = testNamespace('fallback-records')
    const [recorder, { store }] = [open(namespace).store, open(namespace)]
    const first = await claimed(recorder, 'k')
    const ttl = 2_500
    await recorder.complete('k', first.token, value, ttl)
    const recorded = performance.now()
    expect(await store.claim('k', 'fp', 30_000, 86_400_000)).toMatchObject({
      status: 'done',
      outcome: value,
    })
    await server.stop()
    await server.start()
    await back(store)
    expect(await store.claim('k', 'fp', 30_000, 86_400_000)).toMatchObject({
      status: 'done',
      outcome: value,
    })
    // The copy ends with the record it copied, not a full TTL after it was made.
    await delay(recorded + ttl + 100 - performance.now())
    const after = await store.claim('k', 'fp', 30_000, 86_400_000)
    expect(after).toMatchObject({ status: 'claimed' })
    expect(after.fallback).toBeUndefined()
  })
})

describe('FallbackRecordStore racing its own fallback', () => {
  it('lets go of a shared claim answered after a claim of the key was made here', async () => {
    // A shared store that is any RecordStore: here one whose claims answer when let, or fail.
    const shared = new MemoryRecordStore()
    let answer = () => {}
    const gate = new Promise<void>((resolve) => {
      answer = resolve
    })
    let claims = 0
    const slow: RecordStore = {
      claim: async (key, fingerprint, leaseMs) => {
        if (claims++ === 1) throw new RedisUnavailableError('Redis did not answer')
        await gate
        return shared.claim(key, fingerprint, leaseMs, 86_400_000)
      },
      renew: (key, token, leaseMs) => shared.renew(key, token, leaseMs),
      markSent: (key, token) => shared.markSent(key, token),
      complete: (key, token, outcome, ttlMs) => shared.complete(key, token, outcome, ttlMs),
      release: (key, token) => shared.release(key, token),
      wait: (key, signal) => shared.wait(key, signal),
      close: () => shared.close(),
    }
    const store = new FallbackRecordStore(slow, new MemoryRecordStore(), () => false)
    const late = store.claim('k', 'fp', 30_000, 86_400_000)
    const early = await store.claim('k', 'fp', 30_000, 86_400_000)
    expect(early).toMatchObject({ status: 'claimed' })
    expect(early.fallback).toBeDefined()
    answer()
    // The key runs here already: the shared claim is let go, and the late caller waits.
    expect(await late).toMatchObject({ status: 'inFlight' })
    await delay(10)
    expect((await shared.claim('k', 'fp', 30_000, 86_400_000)).status).toBe('claimed')
    await store.close()
  })
})
