/**
 * How often each key was asked for lately, in a few bytes a key: a count-min sketch of 4-bit
 * counters, behind a doorkeeper for the short memory, halved every `sampleSize` records so
 * that it follows popularity as it shifts (TinyLFU: Einziger, Friedman and Manes, 2017). Pure:
 * no clock, no I/O.
 */

/** Counters saturate here: 4 bits. Past 15 accesses a key is simply popular. */
const maxCount = 15
/** Rows of the count-min sketch: each estimate is the least of this many counters. */
const depth = 4
/** Odd 32-bit multipliers, one per row, that spread one hash over the rows' indexes. */
const rowSeeds = [0x9e3779b1, 0x85ebca77, 0xc2b2ae3d, 0x27d4eb2f] as const

/**
 * A 32-bit FNV-1a hash of a string. Computed once per key where it can be (the memory store
 * keeps it beside the entry), so that a hit costs no pass over the key.
 */
export function hashKey(key: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < key.length; i++) {
    h = Math.imul(h ^ key.charCodeAt(i), 0x01000193)
  }
  return h >>> 0
}

/**
 * Records between two halvings. Caffeine's 10 × capacity is too short a memory for a small
 * cache: a key at the edge of 100 entries over 10,000 Zipf keys (s = 0.8) is asked for about
 * once in 1,000 requests, and TinyLFU then tells it from colder ones by noise. A longer memory
 * follows a shift of popularity later, which costs hits against LRU once the cache holds a
 * large share of the keys; so the memory grows to 100 × capacity but only up to 10,000
 * records, and is never below Caffeine's. Larger caps won more at 1,000 entries on the bench's
 * Zipf traces and lost to LRU where half the keys fit and the popular set shifted: that longer
 * memory is a second sketch (`SketchMemory`), which `TinyLfu` follows only while it serves
 * better.
 */
export function sampleSizeFor(capacity: number): number {
  return Math.max(10 * capacity, Math.min(100 * capacity, 10_000))
}

/**
 * How far back a sketch remembers. `'short'`: `sampleSizeFor(capacity)` records, behind a
 * doorkeeper. `'long'`: ten times as many, enough to tell apart the keys at the edge of a
 * cache of 1,000 entries over 10,000 Zipf keys, which the short memory sees about once each.
 * It has no doorkeeper (over so long a period nearly every key passes it) and rows of about
 * 4 × capacity counters, some 8 bytes an entry: on the bench's traces that hits as often as
 * rows sized to the period (32 bytes an entry), where rows half as long closed up to 12 points
 * less of the gap between LRU and the optimal.
 */
export type SketchMemory = 'short' | 'long'

/** Frequencies of hashed keys, for an admission policy to compare. */
export class FrequencySketch {
  /** Counters per row; a power of two, so that an index is a mask. */
  readonly #width: number
  /** `depth` rows of `width` 4-bit counters, 8 to a word. */
  readonly #counters: Uint32Array
  /**
   * One bit per slot: set at a key's first access, so one-off keys never reach the counters.
   * Absent in a long memory.
   */
  readonly #doorkeeper: Uint32Array | undefined
  readonly #sampleSize: number
  #samples = 0

  /** Sized for a cache of `capacity` entries (see `sampleSizeFor` and `SketchMemory`). */
  constructor(capacity: number, memory: SketchMemory = 'short') {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`capacity must be a whole number ≥ 1, got ${capacity}`)
    }
    const short = sampleSizeFor(capacity)
    if (memory === 'long') {
      this.#sampleSize = 10 * short
      this.#width = 2 ** Math.round(Math.log2(Math.max(32, 4 * capacity)))
      this.#doorkeeper = undefined
    } else {
      this.#sampleSize = short
      // Sized to the keys one period can hold, not to the cache: a small cache before many
      // keys would otherwise see its counters collide, and its estimates say little.
      this.#width = 2 ** Math.ceil(Math.log2(Math.max(32, short / 8)))
      this.#doorkeeper = new Uint32Array((8 * this.#width) / 32)
    }
    this.#counters = new Uint32Array((depth * this.#width) / 8)
  }

  /** Records one access of the key hashed to `hash`. */
  record(hash: number): void {
    if (this.#doorkeeper === undefined || this.#admitDoor(hash, this.#doorkeeper)) {
      this.#increment(hash)
    }
    if (++this.#samples >= this.#sampleSize) this.#age()
  }

  /**
   * Recent accesses of the key hashed to `hash`, as the sketch remembers them (0 … 16 behind a
   * doorkeeper, 0 … 15 without).
   */
  estimate(hash: number): number {
    let least = maxCount
    for (let row = 0; row < depth; row++) {
      least = Math.min(least, this.#read(this.#slot(hash, row)))
    }
    const door = this.#doorkeeper
    return door !== undefined && this.#doorHas(hash, door) ? least + 1 : least
  }

  /** Index of a key's counter in `row`, over all rows. */
  #slot(hash: number, row: number): number {
    const h = Math.imul(hash ^ (hash >>> 16), rowSeeds[row] as number)
    return row * this.#width + ((h ^ (h >>> 15)) & (this.#width - 1))
  }

  #read(slot: number): number {
    return ((this.#counters[slot >>> 3] as number) >>> ((slot & 7) << 2)) & 0xf
  }

  /**
   * Conservative update: only the counters at the key's least value go up, for fewer
   * overcounts. Unrolled, with no array: this runs on every cache hit (about 25 ns in all).
   */
  #increment(hash: number): void {
    const s0 = this.#slot(hash, 0)
    const s1 = this.#slot(hash, 1)
    const s2 = this.#slot(hash, 2)
    const s3 = this.#slot(hash, 3)
    const c0 = this.#read(s0)
    const c1 = this.#read(s1)
    const c2 = this.#read(s2)
    const c3 = this.#read(s3)
    const least = Math.min(c0, c1, c2, c3)
    if (least >= maxCount) return
    if (c0 === least) this.#bump(s0)
    if (c1 === least) this.#bump(s1)
    if (c2 === least) this.#bump(s2)
    if (c3 === least) this.#bump(s3)
  }

  #bump(slot: number): void {
    const word = slot >>> 3
    this.#counters[word] = (this.#counters[word] as number) + (1 << ((slot & 7) << 2))
  }

  /** The doorkeeper's first bit for a hash; the second comes from `#doorB`. */
  #doorA(hash: number, door: Uint32Array): number {
    return hash & (door.length * 32 - 1)
  }

  #doorB(hash: number, door: Uint32Array): number {
    return (Math.imul(hash, 0x9e3779b1) >>> 7) & (door.length * 32 - 1)
  }

  #doorHas(hash: number, door: Uint32Array): boolean {
    return bit(door, this.#doorA(hash, door)) === 1 && bit(door, this.#doorB(hash, door)) === 1
  }

  /** True when the key had already passed the doorkeeper (its count goes on in the counters). */
  #admitDoor(hash: number, door: Uint32Array): boolean {
    if (this.#doorHas(hash, door)) return true
    setBit(door, this.#doorA(hash, door))
    setBit(door, this.#doorB(hash, door))
    return false
  }

  /** Halves every counter and forgets the doorkeeper: old popularity fades, new can win. */
  #age(): void {
    for (let i = 0; i < this.#counters.length; i++) {
      this.#counters[i] = ((this.#counters[i] as number) >>> 1) & 0x77777777
    }
    this.#doorkeeper?.fill(0)
    this.#samples = Math.floor(this.#samples / 2)
  }
}

function bit(bits: Uint32Array, i: number): number {
  return ((bits[i >>> 5] as number) >>> (i & 31)) & 1
}

function setBit(bits: Uint32Array, i: number): void {
  bits[i >>> 5] = (bits[i >>> 5] as number) | (1 << (i & 31))
}
