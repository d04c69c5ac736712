/**
 * Which entry a full memory cache keeps: the new one, or the one eviction would drop for it.
 * The same pure rule runs in the memory store (over lru-cache) and in `breakwater replay` (over
 * a trace's keys), so that the replay's figures are the store's.
 */
import { FrequencySketch } from './frequency-sketch.js'

/**
 * How the in-memory cache chooses what to keep once full.
 * - `'lru'`: every new entry goes in; the least recently used one goes out.
 * - `'tinylfu'`: a new entry goes in only if it was asked for more often lately than the least
 *   recently used one it would push out (TinyLFU). One-off keys and scans then pass through
 *   without flushing the popular entries, and every kept hit is an upstream call saved.
 */
export type Admission = 'lru' | 'tinylfu'

export const admissions: readonly Admission[] = ['lru', 'tinylfu']

/** TinyLFU's rule over a frequency sketch of every key asked for. */
export class TinyLfu {
  readonly #sketch: FrequencySketch

  /** For a cache of `capacity` entries. */
  constructor(capacity: number) {
    this.#sketch = new FrequencySketch(capacity)
  }

  /** One request of the key hashed to `hash`, hit or miss: every one counts. */
  record(hash: number): void {
    this.#sketch.record(hash)
  }

  /**
   * May the new key hashed to `candidate` take the place of the eviction's choice, `victim`?
   * Only if it is strictly more frequent: on a tie the entry already held, which has been
   * useful once, stays (as in Caffeine).
   */
  admits(candidate: number, victim: number): boolean {
    return this.#sketch.estimate(candidate) > this.#sketch.estimate(victim)
  }
}
