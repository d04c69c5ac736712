import { describe, expect, it } from 'vitest'
import { type BackoffSettings, backoffDelay } from '../../src/retry/backoff.js'

/** mulberry32: a small seeded generator, so that the distributions below are reproducible. */
function seeded(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
}

const base: BackoffSettings = {
  baseDelay: 200,
  maxDelay: 20_000,
  backoff: 'exponential',
  jitter: 'none',
}
const never = () => {
  throw new Error('random() must not be called without jitter')
}

/** Many delays, each drawn from a fresh call with the same seeded random. */
function sample(settings: BackoffSettings, attempt: number, previous?: number, n = 20_000) {
  const random = seeded(42)
  const delays = Array.from({ length: n }, () => backoffDelay(attempt, settings, previous, random))
  const mean = delays.reduce((a, b) => a + b, 0) / n
  return { min: Math.min(...delays), max: Math.max(...delays), mean }
}

describe('backoffDelay', () => {
  it('doubles from the base for exponential backoff, up to maxDelay', () => {
    const delays = [1, 2, 3, 4, 5].map((n) => backoffDelay(n, base, undefined, never))
    expect(delays).toEqual([200, 400, 800, 1_600, 3_200])
    expect(backoffDelay(8, base, undefined, never)).toBe(20_000)
  })

  it('grows by the base for linear backoff and stays at the base for fixed', () => {
    const linear = { ...base, backoff: 'linear' as const }
    const fixed = { ...base, backoff: 'fixed' as const }
    expect([1, 2, 3].map((n) => backoffDelay(n, linear, undefined, never))).toEqual([200, 400, 600])
    expect(backoffDelay(200, linear, undefined, never)).toBe(20_000)
    expect([1, 2, 9].map((n) => backoffDelay(n, fixed, undefined, never))).toEqual([200, 200, 200])
  })

  it('stays finite for absurd attempt counts and a zero base', () => {
    expect(backoffDelay(5_000, base, undefined, never)).toBe(20_000)
    expect(backoffDelay(5_000, { ...base, baseDelay: 0 }, undefined, never)).toBe(0)
  })

  it('spreads full jitter uniformly over [0, d]', () => {
    const { min, max, mean } = sample({ ...base, jitter: 'full' }, 3)
    expect(min).toBeGreaterThanOrEqual(0)
    expect(min).toBeLessThan(10)
    expect(max).toBeLessThanOrEqual(800)
    expect(max).toBeGreaterThan(790)
    expect(mean).toBeGreaterThan(390)
    expect(mean).toBeLessThan(410)
  })

  it('applies full jitter after the cap', () => {
    const capped = { ...base, jitter: 'full' as const, maxDelay: 1_000 }
    expect(backoffDelay(10, capped, undefined, () => 0.999)).toBeCloseTo(999)
  })

  it('spreads equal jitter over [d/2, d]', () => {
    const { min, max, mean } = sample({ ...base, jitter: 'equal' }, 3)
    expect(min).toBeGreaterThanOrEqual(400)
    expect(min).toBeLessThan(405)
    expect(max).toBeLessThanOrEqual(800)
    expect(max).toBeGreaterThan(795)
    expect(mean).toBeGreaterThan(590)
    expect(mean).toBeLessThan(610)
  })

  it('draws decorrelated jitter from [base, 3·previous], starting from the base', () => {
    const settings = { ...base, jitter: 'decorrelated' as const }
    const first = sample(settings, 1)
    expect(first.min).toBeGreaterThanOrEqual(200)
    expect(first.max).toBeLessThanOrEqual(600)
    expect(first.mean).toBeGreaterThan(390)
    expect(first.mean).toBeLessThan(410)
    const later = sample(settings, 1, 1_000)
    expect(later.min).toBeGreaterThanOrEqual(200)
    expect(later.min).toBeLessThan(220)
    expect(later.max).toBeLessThanOrEqual(3_000)
    expect(later.max).toBeGreaterThan(2_950)
    expect(later.mean).toBeGreaterThan(1_560)
    expect(later.mean).toBeLessThan(1_640)
  })

  it('ignores the attempt count for decorrelated jitter and caps it at maxDelay', () => {
    const settings = { ...base, jitter: 'decorrelated' as const }
    expect(backoffDelay(1, settings, 1_000, () => 0.5)).toBe(
      backoffDelay(9, settings, 1_000, () => 0.5),
    )
    expect(backoffDelay(1, settings, 15_000, () => 1)).toBe(20_000)
  })

  it('never goes below the base for decorrelated jitter after a shorter wait', () => {
    const settings = { ...base, jitter: 'decorrelated' as const }
    expect(backoffDelay(2, settings, 0, () => 0)).toBe(200)
    expect(backoffDelay(2, settings, 0, () => 1)).toBe(600)
  })
})
