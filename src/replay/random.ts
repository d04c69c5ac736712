/**
 * Seeded randomness for synthetic traces: a small fast PRNG, Zipf ranks and Poisson arrivals.
 * Pure: the same seed always gives the same numbers, on every machine.
 */

/** Uniform numbers in [0, 1). */
export type Random = () => number

/**
 * mulberry32: 32 bits of state, fast, and good enough for workloads (it passes gjrand's tests
 * up to a few GB of output). Not for secrets.
 */
export function createRandom(seed: number): Random {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
}

/** Most keys a Zipf sampler takes: its table costs 8 bytes a key. */
export const maxZipfKeys = 10_000_000

/**
 * Draws ranks 1…`keys` with P(rank k) ∝ 1 / k^`exponent` (exponent 0 is uniform). The
 * cumulative table makes each draw one binary search, exact for any exponent.
 */
export function createZipf(keys: number, exponent: number, random: Random): () => number {
  if (!Number.isInteger(keys) || keys < 1 || keys > maxZipfKeys) {
    throw new RangeError(`keys must be a whole number from 1 to ${maxZipfKeys}, got ${keys}`)
  }
  if (!(exponent >= 0) || !Number.isFinite(exponent)) {
    throw new RangeError(`the Zipf exponent must be a number ≥ 0, got ${exponent}`)
  }
  const cumulative = new Float64Array(keys)
  let sum = 0
  for (let k = 1; k <= keys; k++) {
    sum += k ** -exponent
    cumulative[k - 1] = sum
  }
  return () => {
    const target = random() * sum
    let low = 0
    let high = keys - 1
    while (low < high) {
      const middle = (low + high) >>> 1
      if ((cumulative[middle] as number) <= target) low = middle + 1
      else high = middle
    }
    return low + 1
  }
}

/** Gaps between Poisson arrivals at `perSecond`, in ms: exponential with mean 1000 / rate. */
export function createArrivals(perSecond: number, random: Random): () => number {
  if (!(perSecond > 0) || !Number.isFinite(perSecond)) {
    throw new RangeError(
      `the rate must be a number of requests per second above 0, got ${perSecond}`,
    )
  }
  const meanMs = 1_000 / perSecond
  // 1 - u lies in (0, 1], so the logarithm is always finite.
  return () => -Math.log(1 - random()) * meanMs
}

/** A well-mixed 32-bit hash of two integers (murmur3's finalizer), as a number in [0, 1). */
export function hashUnit(a: number, b: number): number {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ b
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b)
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35)
  return ((h ^ (h >>> 16)) >>> 0) / 4_294_967_296
}
