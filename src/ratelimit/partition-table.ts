import { type BucketState, idleAt } from './token-bucket.js'

interface Due {
  /** When the partition was (at the latest) full and unpaused again, as last known here. */
  readonly at: number
  readonly key: string
}

/**
 * The partitions of one bucket that hold spent budget, at most `maxKeys` of them. A full bucket
 * is what an absent one means, so only partitions that are full again are ever dropped: a
 * partition that forgot what it spent would come back full, and a per-key limit would lapse.
 * When every partition holds spent budget, a new one finds no room (`room` says until when)
 * rather than pushing out another's.
 *
 * A min-heap of when each partition is full again finds the first to drop. It is kept lazily:
 * an entry is pushed when a partition appears or comes due sooner; one that comes due later
 * keeps its early entry, which is pushed again at its true time when it surfaces. So each
 * stored partition has an entry no later than its due time, and the hot path (a call spending
 * more of a partition that exists) does not touch the heap.
 */
export class PartitionTable {
  readonly maxKeys: number
  readonly #states = new Map<string, BucketState>()
  #heap: Due[] = []

  constructor(maxKeys: number) {
    this.maxKeys = maxKeys
  }

  get size(): number {
    return this.#states.size
  }

  get(key: string): BucketState | undefined {
    return this.#states.get(key)
  }

  /** Stores `state`, or forgets the partition when it is idle at `now`. */
  put(key: string, state: BucketState, now: number): void {
    const at = idleAt(state)
    if (at <= now) {
      this.#states.delete(key)
      return
    }
    const known = this.#states.get(key)
    this.#states.set(key, state)
    if (known === undefined || at < idleAt(known)) this.#push({ at, key })
    // Entries of partitions dropped or superseded pile up between evictions: rebuilt from the
    // map now and then, at a cost the pushes since have paid for.
    if (this.#heap.length > 2 * this.#states.size + 64) this.#rebuild()
  }

  /**
   * 0 when there is room for one more partition at `now`, after dropping those that are full
   * again; otherwise ms until the first partition will be.
   */
  room(now: number): number {
    if (this.#states.size < this.maxKeys) return 0
    for (;;) {
      const top = this.#heap[0]
      if (top === undefined) return 0
      const state = this.#states.get(top.key)
      const at = state === undefined ? undefined : idleAt(state)
      if (at === undefined || top.at > at) {
        // Dropped, or an earlier entry of the same partition stands for it.
        this.#pop()
      } else if (top.at < at) {
        this.#pop()
        this.#push({ at, key: top.key })
      } else if (at <= now) {
        this.#pop()
        this.#states.delete(top.key)
      } else {
        return this.#states.size < this.maxKeys ? 0 : at - now
      }
    }
  }

  /** Every partition held, with its state. */
  entries(): IterableIterator<[string, BucketState]> {
    return this.#states.entries()
  }

  clear(): void {
    this.#states.clear()
    this.#heap = []
  }

  #rebuild(): void {
    this.#heap = []
    for (const [key, state] of this.#states) this.#push({ at: idleAt(state), key })
  }

  #push(due: Due): void {
    const heap = this.#heap
    let i = heap.push(due) - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      const p = heap[parent] as Due
      if (p.at <= due.at) break
      heap[i] = p
      i = parent
    }
    heap[i] = due
  }

  #pop(): void {
    const heap = this.#heap
    const last = heap.pop() as Due
    if (heap.length === 0) return
    let i = 0
    for (;;) {
      const left = 2 * i + 1
      if (left >= heap.length) break
      const right = left + 1
      const child =
        right < heap.length && (heap[right] as Due).at < (heap[left] as Due).at ? right : left
      if ((heap[child] as Due).at >= last.at) break
      heap[i] = heap[child] as Due
      i = child
    }
    heap[i] = last
  }
}
