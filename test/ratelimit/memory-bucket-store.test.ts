import { describe, expect, it } from 'vitest'
import { MemoryBucketStore } from '../../src/ratelimit/memory-bucket-store.js'
import { bucketStoreConformance } from '../conformance/bucket-store.js'

bucketStoreConformance('memory, hand-set clock', () => {
  const time = { now: 1_000_000 }
  return {
    store: new MemoryBucketStore({ clock: { now: () => time.now } }),
    advance: (ms) => {
      time.now += ms
    },
  }
})

bucketStoreConformance('memory, system clock', () => ({ store: new MemoryBucketStore() }))

describe('MemoryBucketStore', () => {
  const bucket = { name: 'rpm', capacity: 2, refillPerSecond: 1 }

  it('refuses a maxKeys that is not an integer in [1, 10,000,000]', () => {
    expect(() => new MemoryBucketStore({ maxKeys: 0 })).toThrow(
      'options.maxKeys must be an integer ≥ 1, got 0',
    )
    expect(() => new MemoryBucketStore({ maxKeys: 10_000_001 })).toThrow(
      'options.maxKeys must be at most 10000000, got 10000001',
    )
  })

  it('never forgets a partition that holds spent budget: past maxKeys a new key is refused', async () => {
    const time = { now: 0 }
    const store = new MemoryBucketStore({ clock: { now: () => time.now }, maxKeys: 2 })
    await store.acquire([{ bucket, key: 'a', cost: 2 }], 0)
    time.now = 500
    await store.acquire([{ bucket, key: 'b', cost: 1 }], 0)
    // b is full first: 1 s after its call.
    expect(await store.acquire([{ bucket, key: 'c', cost: 1 }], 60_000)).toEqual({
      granted: false,
      retryAfter: 1_000,
      bucket: 'rpm',
      exceedsCapacity: false,
      maxKeys: 2,
    })
    expect(await store.balance({ bucket, key: 'a' })).toBe(0.5)
    expect(await store.balance({ bucket, key: 'b' })).toBe(1)
    time.now = 1_500
    expect(await store.acquire([{ bucket, key: 'c', cost: 1 }], 0)).toMatchObject({
      granted: true,
    })
    expect(await store.balance({ bucket, key: 'a' })).toBe(1.5)
  })

  it('admits a new key that leaves nothing to hold, and keeps a pause past the bound', async () => {
    const store = new MemoryBucketStore({ clock: { now: () => 0 }, maxKeys: 1 })
    await store.acquire([{ bucket, key: 'a', cost: 1 }], 0)
    expect(await store.acquire([{ bucket, key: 'b', cost: 0 }], 0)).toMatchObject({
      granted: true,
    })
    await store.pause([{ bucket, key: 'b' }], 5_000)
    expect(await store.acquire([{ bucket, key: 'b', cost: 0 }], 0)).toMatchObject({
      granted: false,
      retryAfter: 5_000,
    })
  })

  it('bounds each bucket by its own maxKeys', async () => {
    const store = new MemoryBucketStore({ clock: { now: () => 0 }, maxKeys: 1 })
    const wide = { name: 'wide', capacity: 2, refillPerSecond: 1, maxKeys: 3 }
    for (const key of ['a', 'b', 'c']) {
      expect(await store.acquire([{ bucket: wide, key, cost: 1 }], 0)).toMatchObject({
        granted: true,
      })
    }
    expect(await store.acquire([{ bucket: wide, key: 'd', cost: 1 }], 0)).toMatchObject({
      granted: false,
      maxKeys: 3,
    })
    await store.acquire([{ bucket, key: 'a', cost: 1 }], 0)
    expect(await store.acquire([{ bucket, key: 'b', cost: 1 }], 0)).toMatchObject({
      granted: false,
      maxKeys: 1,
    })
  })

  it('makes room from partitions that a refund left full', async () => {
    const time = { now: 0 }
    const store = new MemoryBucketStore({ clock: { now: () => time.now }, maxKeys: 2 })
    await store.acquire([{ bucket, key: 'busy', cost: 2 }], 0)
    for (const key of ['x', 'y', 'z']) {
      const got = await store.acquire([{ bucket, key, cost: 1 }], 0)
      if (!got.granted) throw new Error(`refused ${key}`)
      await store.refund(got.reservation)
    }
    expect(await store.balance({ bucket, key: 'busy' })).toBe(0)
  })

  it('tells apart a bucket name and key that join to the same text', async () => {
    const store = new MemoryBucketStore()
    const a = { name: 'a:b', capacity: 1, refillPerSecond: 1 }
    const b = { name: 'a', capacity: 1, refillPerSecond: 1 }
    await store.acquire([{ bucket: a, key: 'c', cost: 1 }], 0)
    expect(await store.acquire([{ bucket: b, key: 'b:c', cost: 1 }], 0)).toMatchObject({
      granted: true,
    })
  })
})
