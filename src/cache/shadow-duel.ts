/**
 * Which of two admission rules serves the traffic better, measured on the traffic itself: each
 * rule runs a miniature LRU over the same sample of keys (chosen by hash), sized to the
 * sample's share of the cache, and a saturating counter adds the requests that one served and
 * the other missed (miniature simulations: Waldspurger et al., 2017). Set dueling as in CPU
 * caches (leader sets decided by each rule) does not carry over to keys: a group of keys holds
 * as much traffic as the hot keys that fell in it, so two groups' hits compare their keys more
 * than their rules, and on shifting traffic leader keys lost up to 3 points to LRU. Pure: no
 * clock, no I/O.
 */

/** An admission rule: may the key hashed to `candidate` take the place of `victim`? */
export type Rule = (candidate: number, victim: number) => boolean

/**
 * Keys in a miniature, at least: smaller ones hold too few keys for their hit ratio to say
 * which rule keeps the popular ones.
 */
const leastShadow = 64
/** One key in this many at the widest: the two miniatures then hold 3 % of the cache's keys. */
const widestSampling = 64
/**
 * How far the score may run ahead: a lead of this many requests is also what a change of
 * traffic takes to undo, so it is short enough to follow a shift within a few thousand
 * requests and long enough that noise between two close rules does not flip the choice.
 */
const bound = 64

/** Two rules, each over a miniature of the cache; `secondAhead` says which one to follow. */
export class ShadowDuel {
  readonly #first: Rule
  readonly #second: Rule
  /** One sampled key in `#sampling`, by the top bits of a remixed hash. */
  readonly #sampling: number
  readonly #shadowSize: number
  /** Hashes held by each rule's miniature, least recently used first. */
  readonly #firstHeld = new Set<number>()
  readonly #secondHeld = new Set<number>()
  /** Requests the second rule's miniature served and the first's missed, less the converse. */
  #score = 0

  /** For a cache of `capacity` entries; the first rule leads until the second serves more. */
  constructor(capacity: number, first: Rule, second: Rule) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`capacity must be a whole number ≥ 1, got ${capacity}`)
    }
    this.#first = first
    this.#second = second
    let sampling = 1
    while (sampling < widestSampling && capacity / (2 * sampling) >= leastShadow) sampling *= 2
    this.#sampling = sampling
    this.#shadowSize = Math.max(1, Math.round(capacity / sampling))
  }

  /** Whether the second rule has served more of the sampled requests lately. */
  get secondAhead(): boolean {
    return this.#score > 0
  }

  /** One request of the key hashed to `hash`; call it after the rules' own records. */
  record(hash: number): void {
    if (((Math.imul(hash, 0x2c1b3c6d) >>> 26) & (this.#sampling - 1)) !== 0) return
    const first = serve(this.#firstHeld, this.#shadowSize, hash, this.#first)
    const second = serve(this.#secondHeld, this.#shadowSize, hash, this.#second)
    if (second && !first) this.#score = Math.min(bound, this.#score + 1)
    else if (first && !second) this.#score = Math.max(-bound, this.#score - 1)
  }
}

/** One request to a miniature LRU under `rule`: true on a hit. */
function serve(held: Set<number>, size: number, hash: number, rule: Rule): boolean {
  if (held.delete(hash)) {
    held.add(hash)
    return true
  }
  if (held.size >= size) {
    const victim = held.values().next().value as number
    if (!rule(hash, victim)) return false
    held.delete(victim)
  }
  held.add(hash)
  return false
}
