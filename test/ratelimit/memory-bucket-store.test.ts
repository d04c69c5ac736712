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

  it('refuses a maxKeys that is not a positive integer', () => {
    expect(() => new MemoryBucketStore({ maxKeys: 0 })).toThrow(
      'expected options.maxKeys to be an integer ≥ 1, got 0',
    )
  })

  it('forgets the least recently used partition only past maxKeys, which then starts full', async () => {
    const store = new MemoryBucketStore({ clock: { now: () => 0 }, maxKeys: 2 })
    for (const key of ['a', 'b']) await store.acquire([{ bucket, key, cost: 2 }], 0)
    await store.acquire([{ bucket, key: 'c', cost: 2 }], 0)
    expect(await store.balance({ bucket, key: 'a' })).toBe(2)
    expect(await store.balance({ bucket, key: 'b' })).toBe(0)
  })

  it('holds no room for partitions that are full again', async () => {
    const time = { now: 0 }
    const store = new MemoryBucketStore({ clock: { now: () => time.now }, maxKeys: 2 })
    await store.acquire([{ bucket, key: 'busy', cost: 2 }], 0)
    for (const key of ['x', 'y', 'z']) {
      const got = await store.acquire([{ bucket, key, cost: 1 }], 0)
      if (!got.granted) throw new Error('refused')
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
