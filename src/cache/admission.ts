/**
 * Which entry a full memory cache keeps: the new one, or the one eviction would drop for it.
 * The same pure rule runs in the memory store (over lru-cache) and in `breakwater replay` (over
 * a trace's keys), so that the replay's figures are the store's.
 */
import { FrequencySketch } from './frequency-sketch.js'
import { ShadowDuel } from './shadow-duel.js'

/**
 * How the in-memory cache chooses what to keep once full.
 * - `'lru'`: every new entry goes in; the least recently used one goes out.
 * - `'tinylfu'`: a new entry goes in only if it was asked for more often lately than the least
 *   recently used one it would push out (TinyLFU). One-off keys and scans then pass through
 *   without flushing the popular entries, and every kept hit is an upstream call saved.
 *   "Lately" is a short memory or a ten times longer one, whichever serves the traffic better
 *   as measured on a sample of its keys: the long one where popularity holds, the short one
 *   once it shifts.
 */
export type Admission = 'lru' | 'tinylfu'

export const admissions: readonly Admission[] = ['lru', 'tinylfu']

/**
 * TinyLFU's rule over two frequency sketches of every key asked for, a short memory and a long
 * one. A single memory is a trade: the long one tells apart keys that the short one sees once
 * or twice (at 1,000 entries over 10,000 Zipf keys it closes half of the gap from LRU to the
 * optimal, the short one a fifth), but after a shift of popularity it keeps yesterday's keys
 * and falls below LRU. So both count, and a `ShadowDuel` picks the rule to follow.
 */
export class TinyLfu {
  readonly #recent: FrequencySketch
  readonly #lasting: FrequencySketch
  readonly #duel: ShadowDuel

  /** For a cache of `capacity` entries. */
  constructor(capacity: number) {
    this.#recent = new FrequencySketch(capacity)
    this.#lasting = new FrequencySketch(capacity, 'long')
    this.#duel = new ShadowDuel(capacity, this.#byRecent, this.#byLasting)
  }

  /** One request of the key hashed to `hash`, hit or miss: every one counts. */
  record(hash: number): void {
    this.#recent.record(hash)
    this.#lasting.record(hash)
    this.#duel.record(hash)
  }

  /**
   * May the new key hashed to `candidate` take the place of the eviction's choice, `victim`?
   * Only if it is strictly more frequent: on a tie the entry already held, which has been
   * useful once, stays (as in Caffeine).
   */
  admits(candidate: number, victim: number): boolean {
    return this.#duel.secondAhead
      ? this.#byLasting(candidate, victim)
      : this.#byRecent(candidate, victim)
  }

  readonly #byRecent = (candidate: number, victim: number): boolean =>
    this.#recent.estimate(candidate) > this.#recent.estimate(victim)

  readonly #byLasting = (candidate: number, victim: number): boolean =>
    this.#lasting.estimate(candidate) > this.#lasting.estimate(victim)
}
