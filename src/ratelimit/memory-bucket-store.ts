import { type Clock, systemClock } from '../core/clock.js'
import { memoryCount } from '../core/validate.js'
import type {
  Acquired,
  BucketLowering,
  BucketRequest,
  BucketSpec,
  BucketStore,
  BucketTarget,
  PartitionSpent,
  Reservation,
  Spent,
} from './bucket-store.js'
import { PartitionTable } from './partition-table.js'
import {
  adjust,
  type BucketState,
  balance,
  fullBucket,
  isIdle,
  lower,
  pause,
  refund,
  spend,
  take,
} from './token-bucket.js'

export interface MemoryBucketStoreOptions {
  /** Time source. @default Date.now */
  readonly clock?: Clock
  /**
   * Most partitions holding spent budget kept per bucket, for buckets that do not set their own
   * `maxKeys`. @default 10_000
   */
  readonly maxKeys?: number
}

/**
 * Buckets of one process, each in a table of at most `maxKeys` partitions that never drops one
 * holding spent budget (see `PartitionTable`): a call that would add a partition to a full
 * table is refused, its `maxKeys` named, until a partition is full again. A 429 pause, a
 * server's remaining and an adjustment are stored even then: each follows a call that was
 * admitted, so they overstep the bound by no more than the calls in flight, and dropping them
 * would forget what the server said.
 *
 * Every method runs to its end without awaiting, so each decision is atomic across all the
 * buckets it names.
 */
export class MemoryBucketStore implements BucketStore {
  readonly #clock: Clock
  readonly #maxKeys: number
  readonly #tables = new Map<string, PartitionTable>()

  constructor(options: MemoryBucketStoreOptions = {}) {
    const { clock = systemClock } = options
    this.#clock = clock
    this.#maxKeys = memoryCount('options.maxKeys', options.maxKeys, 10_000)
  }

  async acquire(requests: readonly BucketRequest[], maxWait: number): Promise<Acquired> {
    const now = this.#clock.now()
    // One pass, no callbacks: this is the hot path of every rate-limited attempt.
    const tables: PartitionTable[] = []
    const known: (BucketState | undefined)[] = []
    const states: BucketState[] = []
    const costs: number[] = []
    const limits: BucketSpec[] = []
    for (const r of requests) {
      const table = this.#table(r.bucket)
      const state = table.get(r.key)
      tables.push(table)
      known.push(state)
      states.push(state ?? fullBucket)
      costs.push(r.cost)
      limits.push(r.bucket)
    }
    const decision = take(states, costs, limits, now, maxWait)
    const bucket = (requests[decision.binding] as BucketRequest).bucket.name
    if (!decision.granted) {
      const { retryAfter, exceedsCapacity } = decision
      return { granted: false, retryAfter, bucket, exceedsCapacity }
    }
    for (let i = 0; i < requests.length; i++) {
      if (known[i] !== undefined || isIdle(decision.states[i] as BucketState, now)) continue
      const table = tables[i] as PartitionTable
      const wait = table.room(now)
      if (wait > 0) {
        const name = (requests[i] as BucketRequest).bucket.name
        return {
          granted: false,
          retryAfter: wait,
          bucket: name,
          exceedsCapacity: false,
          maxKeys: table.maxKeys,
        }
      }
    }
    const parts = requests.map((r, i) => {
      const state = decision.states[i] as BucketState
      this.#put(r.bucket.name, tables[i] as PartitionTable, r.key, state, now)
      return { bucket: r.bucket, key: r.key, debit: decision.debits[i] as number }
    })
    return { granted: true, wait: decision.wait, bucket, reservation: { parts } }
  }

  async refund(reservation: Reservation): Promise<void> {
    const now = this.#clock.now()
    for (const part of reservation.parts) {
      this.#update(part, now, (s) => refund(s, part.debit))
    }
  }

  async adjust(target: BucketTarget, delta: number): Promise<void> {
    const now = this.#clock.now()
    this.#update(target, now, (s) => adjust(s, delta, target.bucket, now))
  }

  async pause(targets: readonly BucketTarget[], ms: number): Promise<void> {
    const now = this.#clock.now()
    for (const target of targets) this.#update(target, now, (s) => pause(s, ms, now))
  }

  async lower(updates: readonly BucketLowering[], at: number): Promise<void> {
    const now = this.#clock.now()
    for (const u of updates) this.#update(u, now, (s) => lower(s, u.remaining, at, u.bucket, now))
  }

  async balance(target: BucketTarget): Promise<number> {
    const state = this.#tables.get(target.bucket.name)?.get(target.key) ?? fullBucket
    return balance(state, target.bucket, this.#clock.now())
  }

  /**
   * Makes each partition at least as spent as another store says it is. A partition that would
   * need room in a full table is left out, as a new key would be refused: it stays full here.
   */
  spend(parts: readonly (BucketTarget & Spent)[]): void {
    const now = this.#clock.now()
    for (const p of parts) {
      const table = this.#table(p.bucket)
      const state = table.get(p.key)
      const next = spend(state ?? fullBucket, now + p.full, now + p.paused)
      if (state === undefined && (isIdle(next, now) || table.room(now) > 0)) continue
      this.#put(p.bucket.name, table, p.key, next, now)
    }
  }

  /** How spent one partition is now; `undefined` when it is full and unpaused. */
  spentOf(target: BucketTarget): Spent | undefined {
    const state = this.#tables.get(target.bucket.name)?.get(target.key)
    return state === undefined ? undefined : spentAt(state, this.#clock.now())
  }

  /** Every partition that holds spent budget now, as another store would take it over. */
  spent(): PartitionSpent[] {
    const now = this.#clock.now()
    const found: PartitionSpent[] = []
    for (const [name, table] of this.#tables) {
      for (const [key, state] of table.entries()) {
        const spent = spentAt(state, now)
        if (spent !== undefined) found.push({ name, key, ...spent })
      }
    }
    return found
  }

  async close(): Promise<void> {
    for (const table of this.#tables.values()) table.clear()
    this.#tables.clear()
  }

  #table(bucket: BucketSpec): PartitionTable {
    let table = this.#tables.get(bucket.name)
    if (table === undefined) {
      table = new PartitionTable(bucket.maxKeys ?? this.#maxKeys)
      this.#tables.set(bucket.name, table)
    }
    return table
  }

  #update(target: BucketTarget, now: number, change: (state: BucketState) => BucketState): void {
    const table = this.#table(target.bucket)
    const next = change(table.get(target.key) ?? fullBucket)
    this.#put(target.bucket.name, table, target.key, next, now)
  }

  // A full, unpaused bucket is what an absent one means: dropping it keeps the tables to the
  // partitions in use. What goes with it (the last sync time) only ever lowered the bucket.
  #put(name: string, table: PartitionTable, key: string, state: BucketState, now: number): void {
    table.put(key, state, now)
    if (table.size === 0) this.#tables.delete(name)
  }
}

function spentAt(state: BucketState, now: number): Spent | undefined {
  if (isIdle(state, now)) return undefined
  return { full: Math.max(0, state.tat - now), paused: Math.max(0, state.pausedUntil - now) }
}
