import { describe, expect, it } from 'vitest'
import {
  createArrivals,
  createRandom,
  createZipf,
  hashUnit,
  maxZipfKeys,
} from '../../src/replay/random.js'

const draw = <T>(n: number, next: () => T): T[] => Array.from({ length: n }, next)

describe('createRandom', () => {
  it('gives the same numbers for the same seed and others for another', () => {
    expect(draw(5, createRandom(7))).toEqual(draw(5, createRandom(7)))
    expect(draw(5, createRandom(7))).not.toEqual(draw(5, createRandom(8)))
  })

  it('stays in [0, 1) with a mean near one half', () => {
    const values = draw(100_000, createRandom(1))
    expect(Math.min(...values)).toBeGreaterThanOrEqual(0)
    expect(Math.max(...values)).toBeLessThan(1)
    const mean = values.reduce((a, b) => a + b, 0) / values.length
    expect(mean).toBeCloseTo(0.5, 2)
  })
})

describe('createZipf', () => {
  const frequencies = (keys: number, exponent: number, n: number): number[] => {
    const counts = new Array<number>(keys + 1).fill(0)
    const rank = createZipf(keys, exponent, createRandom(42))
    for (let i = 0; i < n; i++) {
      const k = rank()
      counts[k] = (counts[k] as number) + 1
    }
    return counts.map((c) => c / n)
  }

  it('draws rank k with probability proportional to 1 / k^s', () => {
    const keys = 100
    const s = 1.2
    const f = frequencies(keys, s, 200_000)
    let harmonic = 0
    for (let k = 1; k <= keys; k++) harmonic += k ** -s
    for (const k of [1, 2, 5, 10]) expect(f[k]).toBeCloseTo(k ** -s / harmonic, 2)
    // The head is twice as likely as rank 2 to the power s.
    expect((f[1] as number) / (f[2] as number)).toBeCloseTo(2 ** s, 1)
  })

  it('draws only ranks 1 to keys', () => {
    const f = frequencies(10, 1, 20_000)
    expect(f[0]).toBe(0)
    expect(f.slice(1).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 10)
  })

  it('is uniform with exponent 0', () => {
    const f = frequencies(4, 0, 40_000)
    for (const k of [1, 2, 3, 4]) expect(f[k]).toBeCloseTo(0.25, 1)
  })

  it('repeats its ranks for a seed', () => {
    expect(draw(20, createZipf(1_000, 1, createRandom(3)))).toEqual(
      draw(20, createZipf(1_000, 1, createRandom(3))),
    )
  })

  it('refuses bad key counts and exponents', () => {
    expect(() => createZipf(0, 1, createRandom(1))).toThrow('keys must be a whole number from 1')
    expect(() => createZipf(maxZipfKeys + 1, 1, createRandom(1))).toThrow(RangeError)
    expect(() => createZipf(10, -1, createRandom(1))).toThrow(
      'the Zipf exponent must be a number ≥ 0, got -1',
    )
  })
})

describe('createArrivals', () => {
  it('spaces arrivals exponentially, with mean 1000 / rate ms', () => {
    const gaps = draw(100_000, createArrivals(50, createRandom(9)))
    const mean = gaps.reduce((a, b) => a + b, 0) / gaps.length
    const variance = gaps.reduce((a, b) => a + (b - mean) ** 2, 0) / gaps.length
    expect(mean).toBeCloseTo(20, 0)
    // An exponential law's standard deviation equals its mean.
    expect(Math.sqrt(variance) / mean).toBeCloseTo(1, 1)
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(0)
  })

  it('refuses a rate that is not above 0', () => {
    expect(() => createArrivals(0, createRandom(1))).toThrow('the rate must be a number')
  })
})

describe('hashUnit', () => {
  it('maps the same pair to the same number in [0, 1)', () => {
    expect(hashUnit(1, 2)).toBe(hashUnit(1, 2))
    expect(hashUnit(1, 2)).not.toBe(hashUnit(2, 1))
    const values = Array.from({ length: 10_000 }, (_, i) => hashUnit(5, i))
    const mean = values.reduce((a, b) => a + b, 0) / values.length
    expect(mean).toBeCloseTo(0.5, 1)
    expect(values.every((v) => v >= 0 && v < 1)).toBe(true)
  })
})
