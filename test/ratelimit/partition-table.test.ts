import { describe, expect, it } from 'vitest'
import { PartitionTable } from '../../src/ratelimit/partition-table.js'
import { type BucketState, fullBucket, idleAt } from '../../src/ratelimit/token-bucket.js'

/** A seeded generator (mulberry32): the same run on every machine. */
function random(seed: number): () => number {
  let a = seed
  return () => {
    a = (a + 0x6d2b79f5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
}

const spentUntil = (tat: number, pausedUntil = Number.NEGATIVE_INFINITY): BucketState => ({
  ...fullBucket,
  tat,
  pausedUntil,
})

describe('PartitionTable', () => {
  it('forgets a partition that is full again, and no other, to make room', () => {
    const table = new PartitionTable(2)
    table.put('a', spentUntil(100), 0)
    table.put('b', spentUntil(50, 300), 0)
    expect(table.room(0)).toBe(100)
    expect(table.room(99)).toBe(1)
    expect(table.room(100)).toBe(0)
    expect(table.get('a')).toBeUndefined()
    expect(table.get('b')).toEqual(spentUntil(50, 300))
  })

  it('finds the first partition due after its due time moved either way', () => {
    const table = new PartitionTable(2)
    table.put('a', spentUntil(100), 0)
    table.put('b', spentUntil(200), 0)
    // a is spent further (its entry is now early), b is refunded (due sooner).
    table.put('a', spentUntil(400), 0)
    table.put('b', spentUntil(150), 0)
    expect(table.room(0)).toBe(150)
    expect(table.room(150)).toBe(0)
    expect(table.get('a')).toEqual(spentUntil(400))
  })

  it('matches a plain model over a long run of random puts, refunds and room checks', () => {
    const next = random(10)
    const maxKeys = 8
    const table = new PartitionTable(maxKeys)
    const model = new Map<string, BucketState>()
    let now = 0
    let refused = 0
    for (let step = 0; step < 20_000; step++) {
      now += Math.floor(next() * 20)
      const key = `k${Math.floor(next() * 24)}`
      const state = spentUntil(now + Math.floor(next() * 400) - 50)
      const known = model.get(key)
      const knownBusy = known !== undefined && idleAt(known) > now
      if (!knownBusy && idleAt(state) > now) {
        // What the model expects of room: the busy partitions are all that must be kept.
        for (const [k, s] of model) if (idleAt(s) <= now) model.delete(k)
        const busy = [...model.values()].map(idleAt)
        const expected = busy.length < maxKeys ? 0 : Math.min(...busy) - now
        expect(table.room(now)).toBe(expected)
        if (expected > 0) {
          refused++
          continue
        }
      }
      table.put(key, state, now)
      if (idleAt(state) > now) model.set(key, state)
      else model.delete(key)
      for (const [k, s] of model) {
        if (idleAt(s) > now) expect(table.get(k)).toBe(s)
      }
      expect(table.size).toBeLessThanOrEqual(maxKeys)
    }
    // The run spent most of its time at the bound, where the heap does its work.
    expect(refused).toBeGreaterThan(1_000)
  })
})
