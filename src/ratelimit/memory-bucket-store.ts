import { LRUCache } from 'lru-cache'
import { type Clock, systemClock } from '../clock.js'
import type {
  Acquired,
  BucketLowering,
  BucketRequest,
  BucketSpec,
  BucketStore,
  BucketTarget,
  Reservation,
} from './bucket-store.js'
import {
  adjust,
  type BucketState,
  balance,
  fullBucket,
  isIdle,
  lower,
  pause,
  refund,
  take,
} from './token-bucket.js'

export interface MemoryBucketStoreOptions {
  /** Time source. @default Date.now */
  readonly clock?: Clock
  /**
   * Most bucket partitions remembered. Only partitions that are not full take room (a full one
   * is forgotten at once), so the least recently used is evicted only when more than this many
   * were used within one refill. @default 10_000
   */
  readonly maxKeys?: number
}

/**
 * Buckets of one process, in a bounded LRU map. Every method runs to its end without awaiting,
 * so each decision is atomic across all the buckets it names.
 */
export class MemoryBucketStore implements BucketStore {
  readonly #clock: Clock
  readonly #states: LRUCache<string, BucketState>

  constructor(options: MemoryBucketStoreOptions = {}) {
    const { clock = systemClock, maxKeys = 10_000 } = options
    if (!Number.isInteger(maxKeys) || maxKeys < 1) {
      throw new RangeError(`expected options.maxKeys to be an integer ≥ 1, got ${maxKeys}`)
    }
    this.#clock = clock
    this.#states = new LRUCache({ max: maxKeys })
  }

  async acquire(requests: readonly BucketRequest[], maxWait: number): Promise<Acquired> {
    const now = this.#clock.now()
    // One pass, no callbacks: this is the hot path of every rate-limited attempt.
    const ids: string[] = []
    const states: BucketState[] = []
    const costs: number[] = []
    const limits: BucketSpec[] = []
    for (const r of requests) {
      const id = idOf(r)
      ids.push(id)
      states.push(this.#get(id))
      costs.push(r.cost)
      limits.push(r.bucket)
    }
    const decision = take(states, costs, limits, now, maxWait)
    const bucket = (requests[decision.binding] as BucketRequest).bucket.name
    if (!decision.granted) {
      const { retryAfter, exceedsCapacity } = decision
      return { granted: false, retryAfter, bucket, exceedsCapacity }
    }
    const parts = requests.map((r, i) => {
      this.#put(ids[i] as string, decision.states[i] as BucketState, now)
      return { bucket: r.bucket, key: r.key, debit: decision.debits[i] as number }
    })
    return { granted: true, wait: decision.wait, bucket, reservation: { parts } }
  }

  async refund(reservation: Reservation): Promise<void> {
    const now = this.#clock.now()
    for (const part of reservation.parts) {
      const id = idOf(part)
      this.#put(id, refund(this.#get(id), part.debit), now)
    }
  }

  async adjust(target: BucketTarget, delta: number): Promise<void> {
    const now = this.#clock.now()
    const id = idOf(target)
    this.#put(id, adjust(this.#get(id), delta, target.bucket, now), now)
  }

  async pause(targets: readonly BucketTarget[], ms: number): Promise<void> {
    const now = this.#clock.now()
    for (const target of targets) {
      const id = idOf(target)
      this.#put(id, pause(this.#get(id), now + ms), now)
    }
  }

  async lower(updates: readonly BucketLowering[], at: number): Promise<void> {
    const now = this.#clock.now()
    for (const u of updates) {
      const id = idOf(u)
      this.#put(id, lower(this.#get(id), u.remaining, at, u.bucket, now), now)
    }
  }

  async balance(target: BucketTarget): Promise<number> {
    return balance(this.#get(idOf(target)), target.bucket, this.#clock.now())
  }

  async close(): Promise<void> {
    this.#states.clear()
  }

  #get(id: string): BucketState {
    return this.#states.get(id) ?? fullBucket
  }

  // A full, unpaused bucket is what an absent one means: dropping it keeps the map to the
  // partitions in use. What goes with it (the last sync time) only ever lowered the bucket.
  #put(id: string, state: BucketState, now: number): void {
    if (isIdle(state, now)) this.#states.delete(id)
    else this.#states.set(id, state)
  }
}

// The name's length first, so that no bucket name and key can be read as another pair.
function idOf(target: BucketTarget): string {
  return `${target.bucket.name.length}:${target.bucket.name}:${target.key}`
}
