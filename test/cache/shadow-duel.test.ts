import { describe, expect, it } from 'vitest'
import { FrequencySketch, hashKey } from '../../src/cache/frequency-sketch.js'
import { type Rule, ShadowDuel } from '../../src/cache/shadow-duel.js'
import { admissionHits, keyHashes } from '../../src/replay/admission-replay.js'
import { beladyHits, type Lookups } from '../../src/replay/optimal.js'
import { createRandom, createZipf } from '../../src/replay/random.js'

const keys = 10_000
const requests = 100_000
const size = 1_000
const forever = 1e12

/** Seeded Zipf keys over `keys`; from `shiftAt` on, every rank moves to another key. */
function trace(s: number, seed: number, shiftAt = requests): number[] {
  const draw = createZipf(keys, s, createRandom(seed))
  return Array.from({ length: requests }, (_, i) => {
    const k = draw()
    return i < shiftAt ? k : ((k - 1 + keys / 2) % keys) + 1
  })
}

const never: Rule = () => false
const always: Rule = () => true

describe('ShadowDuel', () => {
  it('lets the rule that serves more of the sample lead', () => {
    // Never admitting keeps the first keys; always admitting is LRU. Over a loop that fits, both
    // serve alike and the first rule keeps the lead; over new keys only LRU serves them.
    const duel = new ShadowDuel(64, never, always)
    for (let round = 0; round < 5; round++) {
      for (let k = 0; k < 64; k++) duel.record(hashKey(`/a/${k}`))
    }
    expect(duel.secondAhead).toBe(false)
    for (let round = 0; round < 5; round++) {
      for (let k = 0; k < 64; k++) duel.record(hashKey(`/b/${k}`))
    }
    expect(duel.secondAhead).toBe(true)
  })

  it('follows the long memory while popularity holds, the short one soon after it shifts', () => {
    for (const s of [0.8, 1.0]) {
      const recent = new FrequencySketch(size)
      const lasting = new FrequencySketch(size, 'long')
      const duel = new ShadowDuel(
        size,
        (c, v) => recent.estimate(c) > recent.estimate(v),
        (c, v) => lasting.estimate(c) > lasting.estimate(v),
      )
      const sequence = trace(s, 3, requests / 2)
      const leads: boolean[] = []
      sequence.forEach((k, i) => {
        const hash = hashKey(`/items/${k}`)
        recent.record(hash)
        lasting.record(hash)
        duel.record(hash)
        if (i % 10_000 === 9_999) leads.push(duel.secondAhead)
      })
      // By 30,000 requests the long memory leads; 10,000 requests past the shift it no longer
      // does, while it still remembers yesterday's keys.
      expect(leads.slice(2, 5), `s=${s}`).toEqual([true, true, true])
      expect(leads[5], `s=${s}`).toBe(false)
    }
  })

  it('names a bad capacity', () => {
    expect(() => new ShadowDuel(0, never, always)).toThrow(/capacity must be a whole number/)
  })
})

describe('TinyLfu over both memories', () => {
  function figures(sequence: readonly number[]) {
    const ids = new Map<number, number>()
    const keyIds = Int32Array.from(sequence, (k) => {
      const id = ids.get(k) ?? ids.size
      ids.set(k, id)
      return id
    })
    const lookups: Lookups = {
      keyIds,
      times: Float64Array.from(sequence, (_, i) => i),
      keyCount: ids.size,
    }
    const hashes = keyHashes([...ids.keys()].map((k) => `/items/${k}`))
    const ratio = (hits: Uint8Array) => hits.reduce((sum, hit) => sum + hit, 0) / hits.length
    return {
      lru: ratio(admissionHits(lookups, hashes, size, forever, 'lru')),
      tinylfu: ratio(admissionHits(lookups, hashes, size, forever, 'tinylfu')),
      optimal: ratio(beladyHits(lookups, size, forever)),
    }
  }

  it('closes much of the gap to the optimal at 1,000 entries, and holds LRU on a shift', () => {
    for (const s of [0.8, 1.0]) {
      const stable = figures(trace(s, 5))
      // The short memory alone closes about a fifth of this gap.
      expect(
        (stable.tinylfu - stable.lru) / (stable.optimal - stable.lru),
        `s=${s}`,
      ).toBeGreaterThan(0.4)
      const shifted = figures(trace(s, 5, requests / 2))
      expect(shifted.tinylfu, `s=${s} shift`).toBeGreaterThan(shifted.lru - 0.005)
    }
  })
})
