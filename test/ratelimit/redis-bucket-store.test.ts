import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createCluster } from '@redis/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { maxServerWaitMs } from '../../src/core/validate.js'
import { RedisBucketStore } from '../../src/ratelimit/redis-bucket-store.js'
import { RedisConnection } from '../../src/redis/connection.js'
import { type RedisOption, resolveRedis } from '../../src/redis/options.js'
import { bucketStoreConformance } from '../conformance/bucket-store.js'
import { rawClient, realContext, redisUrl, testNamespace } from '../helpers/redis.js'
import { RedisServer } from '../helpers/redis-server.js'
import { delay } from '../helpers/upstream.js'

/** What Redis Cluster hashes of a key: the text between its first `{` and the `}` after. */
function hashTag(key: string): string {
  const open = key.indexOf('{')
  const close = key.indexOf('}', open + 1)
  return open >= 0 && close > open + 1 ? key.slice(open + 1, close) : key
}

const connections: RedisConnection[] = []
afterAll(async () => {
  await Promise.all(connections.splice(0).map((c) => c.close()))
})

/** A connection of the test's own, under a namespace no other run or test uses. */
function connect(namespace = testNamespace('buckets'), redis: RedisOption = redisUrl()) {
  const options = resolveRedis(typeof redis === 'string' ? { url: redis, timeout: 500 } : redis)
  if (!options) throw new Error('redis expected')
  const connection = new RedisConnection(options, namespace, realContext())
  connections.push(connection)
  return connection
}

// No `advance`: the store keeps Redis' time, and the suite waits in real time.
bucketStoreConformance('RedisBucketStore', () => ({ store: new RedisBucketStore(connect()) }))

describe('RedisBucketStore', () => {
  const bucket = { name: 'rpm', capacity: 2, refillPerSecond: 1 }

  it('shares one budget between stores on different connections', async () => {
    const namespace = testNamespace('shared')
    const [a, b] = [
      new RedisBucketStore(connect(namespace)),
      new RedisBucketStore(connect(namespace)),
    ]
    expect(await a.acquire([{ bucket, key: 'k', cost: 2 }], 0)).toMatchObject({ granted: true })
    expect(await b.acquire([{ bucket, key: 'k', cost: 1 }], 0)).toMatchObject({ granted: false })
  })

  it('keeps the buckets of one partition in one hash slot, and expires them once full', async () => {
    const namespace = testNamespace('slots')
    const store = new RedisBucketStore(connect(namespace))
    const tpm = { name: 'tpm', capacity: 1_000, refillPerSecond: 1_000 }
    const raw = await rawClient()
    await store.acquire(
      [
        { bucket, key: 'https://api.test', cost: 1 },
        { bucket: tpm, key: 'https://api.test', cost: 100 },
      ],
      0,
    )
    try {
      const keys = await raw.keys(`${namespace}:*`)
      expect(keys).toHaveLength(2)
      expect(new Set(keys.map(hashTag))).toEqual(new Set([`${namespace}:https://api.test`]))
      const ttls = Object.fromEntries(
        await Promise.all(
          keys.map(async (k) => [k.endsWith(':rpm') ? 'rpm' : 'tpm', await raw.pTTL(k)]),
        ),
      )
      // One token of rpm is back in 1 s; 100 tokens of tpm in 100 ms.
      expect(ttls.rpm).toBeGreaterThan(900)
      expect(ttls.rpm).toBeLessThanOrEqual(1_000)
      expect(ttls.tpm).toBeGreaterThan(0)
      expect(ttls.tpm).toBeLessThanOrEqual(100)
    } finally {
      await raw.close()
    }
  })

  it('reads a foreign or corrupt value under its key as a full bucket', async () => {
    const namespace = testNamespace('corrupt')
    const store = new RedisBucketStore(connect(namespace))
    await store.acquire([{ bucket, key: 'k', cost: 2 }], 0)
    const raw = await rawClient()
    try {
      const [key] = await raw.keys(`${namespace}:*`)
      await raw.set(key as string, 'bwb1 not numbers at all')
      expect(await store.balance({ bucket, key: 'k' })).toBe(2)
      await raw.del(key as string)
      await raw.hSet(key as string, 'x', '1')
      expect(await store.acquire([{ bucket, key: 'k', cost: 2 }], 0)).toMatchObject({
        granted: true,
      })
      expect(await store.balance({ bucket, key: 'k' })).toBeLessThan(0.1)
    } finally {
      await raw.close()
    }
  })
})

describe('RedisBucketStore and pauses from before the cap', () => {
  const bucket = { name: 'rpm', capacity: 2, refillPerSecond: 1 }

  it('cuts a stored pause of years down to maxServerWaitMs and writes it back', async () => {
    const namespace = testNamespace('long-pause')
    const store = new RedisBucketStore(connect(namespace))
    await store.acquire([{ bucket, key: 'k', cost: 1 }], 0)
    const raw = await rawClient()
    try {
      const [key] = await raw.keys(`${namespace}:*`)
      // What a version without the cap left after `Retry-After: 99999999`.
      const years = Date.now() + 99_999_999_000
      await raw.set(key as string, `bwb1 n ${years} n n`, { PX: 99_999_999_000 })
      const refused = await store.acquire([{ bucket, key: 'k', cost: 1 }], 0)
      expect(refused).toMatchObject({ granted: false })
      if (refused.granted) throw new Error('granted')
      expect(refused.retryAfter).toBeGreaterThan(maxServerWaitMs - 1_000)
      expect(refused.retryAfter).toBeLessThanOrEqual(maxServerWaitMs)
      expect(await raw.pTTL(key as string)).toBeLessThanOrEqual(maxServerWaitMs)
      // Written back: the hour counts from the repair, not from every read.
      await delay(20)
      const again = await store.acquire([{ bucket, key: 'k', cost: 1 }], 0)
      if (again.granted) throw new Error('granted')
      expect(again.retryAfter).toBeLessThan(refused.retryAfter)
    } finally {
      await raw.close()
    }
  })

  it('reads a field that is not a finite number as a corrupt value', async () => {
    const namespace = testNamespace('infinite')
    const store = new RedisBucketStore(connect(namespace))
    await store.acquire([{ bucket, key: 'k', cost: 2 }], 0)
    const raw = await rawClient()
    try {
      const [key] = await raw.keys(`${namespace}:*`)
      await raw.set(key as string, 'bwb1 inf n n n')
      expect(await store.balance({ bucket, key: 'k' })).toBe(2)
      expect(await store.acquire([{ bucket, key: 'k', cost: 1 }], 0)).toMatchObject({
        granted: true,
      })
    } finally {
      await raw.close()
    }
  })
})

describe('RedisBucketStore on Redis Cluster', () => {
  let dir: string
  let server: RedisServer
  let cluster: ReturnType<typeof createCluster>

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bw-bucket-cluster-'))
    // One node holding every slot: enough to route, and to refuse CROSSSLOT.
    server = await RedisServer.create(true, [
      ...['--cluster-enabled', 'yes', '--cluster-config-file', join(dir, 'nodes.conf')],
    ])
    await server.cli('CLUSTER', 'ADDSLOTSRANGE', '0', '16383')
    while (!(await server.cli('CLUSTER', 'INFO')).includes('cluster_state:ok')) await delay(20)
    cluster = createCluster({ rootNodes: [{ url: server.url }] })
    cluster.on('error', () => {})
    await cluster.connect()
  })
  afterAll(async () => {
    await Promise.all(connections.splice(0).map((c) => c.close()))
    await cluster.close()
    await server.stop()
    await rm(dir, { recursive: true, force: true })
  })

  it('checks and debits two buckets of one call in one script without CROSSSLOT', async () => {
    const store = new RedisBucketStore(connect(testNamespace('cluster'), cluster))
    const rpm = { name: 'rpm', capacity: 1, refillPerSecond: 1 }
    // Refilled slowly: the balance is read on Redis' clock, which runs on between the calls.
    const tpm = { name: 'tpm', capacity: 100, refillPerSecond: 0.01 }
    const call = [
      { bucket: rpm, key: 'https://api.test', cost: 1 },
      { bucket: tpm, key: 'https://api.test', cost: 10 },
    ]
    expect(await store.acquire(call, 0)).toMatchObject({ granted: true, wait: 0 })
    expect(await store.acquire(call, 0)).toMatchObject({ granted: false, bucket: 'rpm' })
    expect(await store.balance({ bucket: tpm, key: 'https://api.test' })).toBeCloseTo(90, 0)
  })
})
