import { describe, expect, it } from 'vitest'
import { createMemoryKeyv } from '../../src/cache/memory-store.js'
import { admissionHits, keyHashes } from '../../src/replay/admission-replay.js'
import { beladyHits, compulsoryHits, type Lookups } from '../../src/replay/optimal.js'
import { createRandom, createZipf } from '../../src/replay/random.js'

const keys = 2_000
const forever = 1e12

/** `n` Zipf keys of exponent `s`, seeded. */
function zipf(n: number, s: number, seed: number, offset = 0): number[] {
  const draw = createZipf(keys, s, createRandom(seed))
  return Array.from({ length: n }, () => ((draw() - 1 + offset) % keys) + 1)
}

function lookupsOf(sequence: readonly number[]): { lookups: Lookups; names: string[] } {
  const ids = new Map<number, number>()
  const keyIds = Int32Array.from(sequence, (k) => {
    const id = ids.get(k) ?? ids.size
    ids.set(k, id)
    return id
  })
  const times = Float64Array.from(sequence, (_, i) => i)
  const names = [...ids.keys()].map((k) => `/items/${k}`)
  return { lookups: { keyIds, times, keyCount: ids.size }, names }
}

const ratio = (hits: Uint8Array) => hits.reduce((sum, hit) => sum + hit, 0) / hits.length

function figures(sequence: readonly number[], size: number) {
  const { lookups, names } = lookupsOf(sequence)
  const hashes = keyHashes(names)
  return {
    lru: ratio(admissionHits(lookups, hashes, size, forever, 'lru')),
    tinylfu: ratio(admissionHits(lookups, hashes, size, forever, 'tinylfu')),
    optimal: ratio(beladyHits(lookups, size, forever)),
    bound: ratio(compulsoryHits(lookups, forever)),
  }
}

describe('admissionHits', () => {
  const traces: [string, number[]][] = []
  for (const s of [0.8, 1.0]) {
    const base = zipf(40_000, s, 11)
    traces.push([`zipf s=${s}`, base])
    const sweep = Array.from({ length: 4_000 }, (_, i) => keys + 1 + i)
    traces.push([`scan s=${s}`, [...base.slice(0, 20_000), ...sweep, ...base.slice(20_000)]])
    traces.push([`shift s=${s}`, [...base.slice(0, 20_000), ...zipf(20_000, s, 12, keys / 2)]])
  }

  it('stays under the optimal and within a point of LRU or above, on Zipf, scan and shift', () => {
    for (const [name, sequence] of traces) {
      for (const size of [20, 200, 1_000]) {
        const f = figures(sequence, size)
        const at = `${name}, ${size} entries`
        expect(f.tinylfu, at).toBeLessThanOrEqual(f.optimal)
        expect(f.optimal, at).toBeLessThanOrEqual(f.bound)
        expect(f.tinylfu, at).toBeGreaterThan(f.lru - 0.01)
      }
    }
  })

  it('closes a large share of the gap to the optimal at small sizes', () => {
    const f = figures(zipf(40_000, 0.8, 11), 20)
    expect((f.tinylfu - f.lru) / (f.optimal - f.lru)).toBeGreaterThan(0.4)
  })

  it('serves what the memory store serves, request by request', async () => {
    const sequence = [...zipf(6_000, 0.9, 5), ...zipf(3_000, 0.9, 6, 700)]
    const { lookups, names } = lookupsOf(sequence)
    const replayed = admissionHits(lookups, keyHashes(names), 50, forever, 'tinylfu')
    // No namespace: the store then hashes the very keys the replay hashes.
    const store = createMemoryKeyv({
      maxEntries: 50,
      maxTotalBytes: 1 << 30,
      maxBodyBytes: 1 << 20,
      namespace: '',
      admission: 'tinylfu',
    }).store
    const served: number[] = []
    for (const k of sequence) {
      const key = `/items/${k}`
      const found = await store.get(key)
      served.push(found === undefined ? 0 : 1)
      if (found === undefined) await store.set(key, { value: k })
    }
    expect(served).toEqual([...replayed])
  })

  it('expires an entry one TTL after its fetch, and lets the refetch in again', () => {
    const { lookups, names } = lookupsOf([1, 1, 1, 1])
    lookups.times.set([0, 5, 10, 15])
    expect([...admissionHits(lookups, keyHashes(names), 2, 10, 'tinylfu')]).toEqual([0, 1, 0, 1])
  })

  it('names a bad size or TTL', () => {
    const { lookups, names } = lookupsOf([1])
    expect(() => admissionHits(lookups, keyHashes(names), 0, 10, 'lru')).toThrow(/maxEntries/)
    expect(() => admissionHits(lookups, keyHashes(names), 1, 0, 'lru')).toThrow(/ttlMs/)
  })
})
