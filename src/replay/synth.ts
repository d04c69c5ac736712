/**
 * Synthetic request traces: Zipf-distributed keys arriving as a Poisson process, the usual model
 * of read traffic on an API. Deterministic for a seed, so that a shipped trace can be remade.
 */
import { createArrivals, createRandom, createZipf, hashUnit } from './random.js'

export interface SynthOptions {
  /** Requests in the trace. */
  readonly requests: number
  /** Distinct keys (`/items/1` … `/items/K`). */
  readonly keys: number
  /** Zipf exponent: 0 is uniform; around 1 is typical of web and API traffic. */
  readonly zipf: number
  /** Mean arrivals per second. */
  readonly rate: number
  readonly seed: number
}

/** One line of a JSON Lines trace, as `breakwater replay` reads it. */
export interface SynthRequest {
  /** ms since the start of the trace, to the µs. */
  readonly t: number
  readonly method: 'GET'
  readonly url: string
  /** Size of the answer: fixed per key, log-normal around 2 KiB across keys. */
  readonly bytes: number
}

const medianBytes = 2_048
const minBytes = 128
const maxBytes = 256 * 1_024

/** The requests of a synthetic trace, one at a time: a million of them need no array. */
export function* synthRequests(options: SynthOptions): Generator<SynthRequest> {
  const { requests, keys, zipf, rate, seed } = options
  if (!Number.isInteger(requests) || requests < 1) {
    throw new RangeError(`requests must be a whole number ≥ 1, got ${requests}`)
  }
  if (!Number.isInteger(seed)) throw new RangeError(`the seed must be a whole number, got ${seed}`)
  // Two streams, so that changing the rate leaves the sequence of keys as it was.
  const rank = createZipf(keys, zipf, createRandom(seed))
  const gap = createArrivals(rate, createRandom(seed ^ 0x5bd1e995))
  let t = 0
  for (let i = 0; i < requests; i++) {
    const k = rank()
    yield {
      t: Math.round(t * 1_000) / 1_000,
      method: 'GET',
      url: `/items/${k}`,
      bytes: sizeOf(seed, k),
    }
    t += gap()
  }
}

/** A key's answer size, from a hash rather than a table, so that any number of keys costs nothing. */
function sizeOf(seed: number, rank: number): number {
  const u1 = hashUnit(seed, rank * 2)
  const u2 = hashUnit(seed, rank * 2 + 1)
  // Box-Muller: one standard normal draw from two uniform ones.
  const normal = Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2)
  return Math.min(maxBytes, Math.max(minBytes, Math.round(medianBytes * Math.exp(normal))))
}
