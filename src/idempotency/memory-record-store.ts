import { randomUUID } from 'node:crypto'
import { LRUCache } from 'lru-cache'
import { type Clock, nap, systemClock, systemTimers, type Timers } from '../core/clock.js'
import type { ClaimResult, RecordedOutcome, RecordStore } from './record-store.js'

interface InFlight {
  readonly state: 'inFlight'
  readonly fingerprint: string
  readonly token: string
  /** When the lease lapses, on the store's clock. */
  readonly leaseEnd: number
  /** ms the record stands abandoned past `leaseEnd`; 0: it is gone then (a copy's lease). */
  readonly keep: number
  /** Taken over abandoned: a release, or a lapsed lease, leaves it abandoned again. */
  readonly taken: boolean
  /** Marked sent: a lapsed lease leaves it abandoned rather than free. */
  readonly sent: boolean
}

type MemoryRecord =
  | InFlight
  | { readonly state: 'abandoned'; readonly fingerprint: string }
  | { readonly state: 'done'; readonly fingerprint: string; readonly outcome: RecordedOutcome }

export interface MemoryRecordStoreOptions {
  /** Most records kept; the least recently used goes first. @default 10_000 */
  readonly maxRecords?: number
  /**
   * What a waiter's look at a lease that may have lapsed is timed with: the stage's
   * `context.timers`. The records' own TTLs stay on lru-cache's clock. @default the global timers
   */
  readonly timers?: Timers
  /** What leases are judged by: the stage's `context.clock`. @default the system clock */
  readonly clock?: Clock
}

/**
 * Idempotency records in this process, in an lru-cache: bounded by `maxRecords`, each record
 * kept for its lease and then, abandoned when it was sent, for the TTL its claim gave (in
 * flight), or for its TTL (done). The lease's end is data in the record, judged on `clock`
 * whenever the record is read. Outcomes are copied in and out, so no caller ever holds the bytes
 * or the value that the record keeps.
 *
 * @example
 * const store = new MemoryRecordStore({ maxRecords: 1_000 })
 * const claim = await store.claim(recordKey, fingerprint, 30_000)
 */
export class MemoryRecordStore implements RecordStore {
  readonly #records: LRUCache<string, MemoryRecord>
  // Only callers waiting right now: each entry goes when its last waiter wakes or leaves.
  readonly #waiters = new Map<string, Set<() => void>>()
  readonly #timers: Timers
  readonly #clock: Clock

  constructor(options: MemoryRecordStoreOptions = {}) {
    this.#records = new LRUCache({ max: options.maxRecords ?? 10_000 })
    this.#timers = options.timers ?? systemTimers
    this.#clock = options.clock ?? systemClock
  }

  async claim(
    recordKey: string,
    fingerprint: string,
    leaseMs: number,
    ttlMs: number,
  ): Promise<ClaimResult> {
    const record = this.#current(recordKey)
    if (record === undefined) {
      return { status: 'claimed', token: this.#take(recordKey, fingerprint, leaseMs, ttlMs) }
    }
    if (record.fingerprint !== fingerprint) return { status: 'conflict' }
    if (record.state === 'inFlight' && !this.#lapsed(record)) return { status: 'inFlight' }
    // A lapsed lease with nothing sent left nothing to know: the record is free.
    if (record.state === 'inFlight' && !record.sent && !record.taken) {
      return { status: 'claimed', token: this.#take(recordKey, fingerprint, leaseMs, ttlMs) }
    }
    if (record.state !== 'done') {
      const token = this.#take(recordKey, fingerprint, leaseMs, ttlMs, true)
      return { status: 'claimed', token, abandoned: true }
    }
    // lru-cache counts on a clock of its own, in fractions of a ms.
    const ttlLeft = Math.max(0, Math.floor(this.#records.getRemainingTTL(recordKey)))
    return { status: 'done', outcome: copyOf(record.outcome), ttlLeft }
  }

  /**
   * Takes a free record in flight under a token issued elsewhere (a shared store's claim), so
   * that this store answers its repeats and its token's `renew`, `complete` and `release`.
   * False, and nothing changes, when the key is not free here.
   */
  hold(recordKey: string, fingerprint: string, token: string, leaseMs: number): boolean {
    if (this.#current(recordKey) !== undefined || !(leaseMs >= 1)) return false
    // A copy: the shared store keeps the abandoned record, this one forgets it with the lease.
    this.#hold(recordKey, { fingerprint, token, keep: 0, taken: false, sent: false }, leaseMs)
    return true
  }

  /**
   * Keeps, for `ttlMs`, an outcome recorded elsewhere (a shared store's answer) as a done record,
   * when the key is free here. False when it is not, or nothing is left of the TTL.
   */
  keep(recordKey: string, fingerprint: string, outcome: RecordedOutcome, ttlMs: number): boolean {
    // lru-cache reads a TTL of 0 as "never expires".
    if (this.#current(recordKey) !== undefined || !(ttlMs >= 1)) return false
    const record = { state: 'done', fingerprint, outcome: copyOf(outcome) } as const
    this.#records.set(recordKey, record, { ttl: ttlMs })
    return true
  }

  async renew(recordKey: string, token: string, leaseMs: number): Promise<boolean> {
    const record = this.#owned(recordKey, token)
    if (record === undefined) return false
    this.#hold(recordKey, record, leaseMs)
    return true
  }

  async markSent(recordKey: string, token: string): Promise<boolean> {
    const record = this.#owned(recordKey, token)
    if (record === undefined) return false
    // The same lease and the same end of the key: only what a lapse leaves changes.
    this.#records.set(recordKey, { ...record, sent: true }, { noUpdateTTL: true })
    return true
  }

  async complete(
    recordKey: string,
    token: string,
    outcome: RecordedOutcome,
    ttlMs: number,
  ): Promise<boolean> {
    const record = this.#owned(recordKey, token)
    if (record === undefined) return false
    // Copied before it is kept: throws (and keeps nothing) for a value that cannot be cloned.
    const kept = copyOf(outcome)
    this.#records.set(
      recordKey,
      { state: 'done', fingerprint: record.fingerprint, outcome: kept },
      { ttl: ttlMs },
    )
    this.#wake(recordKey)
    return true
  }

  async release(recordKey: string, token: string): Promise<boolean> {
    const record = this.#owned(recordKey, token)
    if (record === undefined) return false
    if (record.taken && record.keep >= 1) {
      const abandoned = { state: 'abandoned', fingerprint: record.fingerprint } as const
      this.#records.set(recordKey, abandoned, { ttl: record.keep })
    } else {
      this.#records.delete(recordKey)
    }
    this.#wake(recordKey)
    return true
  }

  async wait(recordKey: string, signal: AbortSignal | undefined): Promise<void> {
    signal?.throwIfAborted()
    // A holder may die without a word: look again whenever its lease would end, until it has.
    let left = this.#leaseLeft(recordKey)
    while (left !== undefined) {
      if (await this.#nap(recordKey, left + 1, signal)) return
      left = this.#leaseLeft(recordKey)
    }
  }

  /** True while this store keeps a record under `recordKey`: in flight, abandoned or done. */
  holds(recordKey: string): boolean {
    return this.#current(recordKey) !== undefined
  }

  async close(): Promise<void> {
    this.#records.clear()
    for (const recordKey of [...this.#waiters.keys()]) this.#wake(recordKey)
  }

  /** ms left on the lease of an in-flight record; undefined when the record is not in flight. */
  #leaseLeft(recordKey: string): number | undefined {
    const record = this.#current(recordKey)
    if (record?.state !== 'inFlight' || this.#lapsed(record)) return undefined
    return record.leaseEnd - this.#clock.now()
  }

  /** The record under `recordKey`, but for a copy whose lease lapsed: that one is gone. */
  #current(recordKey: string): MemoryRecord | undefined {
    const record = this.#records.get(recordKey)
    if (record?.state !== 'inFlight' || record.keep > 0 || !this.#lapsed(record)) return record
    this.#records.delete(recordKey)
    return undefined
  }

  #lapsed(record: InFlight): boolean {
    return this.#clock.now() >= record.leaseEnd
  }

  /** A fresh token in flight under `recordKey`. */
  #take(key: string, fingerprint: string, leaseMs: number, keep: number, taken = false): string {
    const token = randomUUID()
    this.#hold(key, { fingerprint, token, keep, taken, sent: false }, leaseMs)
    return token
  }

  /** Puts `record` in flight for `leaseMs` from now, kept abandoned `record.keep` past it. */
  #hold(recordKey: string, record: Omit<InFlight, 'state' | 'leaseEnd'>, leaseMs: number): void {
    const leaseEnd = this.#clock.now() + leaseMs
    const { fingerprint, token, keep, taken, sent } = record
    const held: InFlight = { state: 'inFlight', fingerprint, token, leaseEnd, keep, taken, sent }
    this.#records.set(recordKey, held, { ttl: leaseMs + keep })
  }

  /** Sleeps `ms` among the key's waiters; `true` when a change to the record woke it. */
  async #nap(recordKey: string, ms: number, signal: AbortSignal | undefined): Promise<boolean> {
    const waiters = this.#waiters.get(recordKey) ?? new Set()
    this.#waiters.set(recordKey, waiters)
    try {
      return await nap(ms, waiters, signal, this.#timers)
    } finally {
      if (waiters.size === 0 && this.#waiters.get(recordKey) === waiters) {
        this.#waiters.delete(recordKey)
      }
    }
  }

  #owned(recordKey: string, token: string): InFlight | undefined {
    const record = this.#current(recordKey)
    return record?.state === 'inFlight' && record.token === token ? record : undefined
  }

  #wake(recordKey: string): void {
    for (const wake of [...(this.#waiters.get(recordKey) ?? [])]) wake()
  }
}

/** A copy that shares nothing with the original: fresh body bytes, a cloned value. */
function copyOf(outcome: RecordedOutcome): RecordedOutcome {
  if (outcome.kind === 'value') return { kind: 'value', value: structuredClone(outcome.value) }
  return {
    ...outcome,
    headers: [...outcome.headers],
    body: outcome.body === null ? null : new Uint8Array(outcome.body),
  }
}
