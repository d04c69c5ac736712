import type { HttpOutcome, ValueOutcome } from '../core/outcome.js'

/** An outcome a record can hold: complete bytes or a value, never a live stream. */
export type RecordedOutcome =
  | ValueOutcome
  | (Omit<HttpOutcome, 'body'> & { readonly body: Uint8Array | null })

/**
 * What went wrong on the way to a claim's answer, for the stage to report as events (a store
 * has no call to name in them). Absent when nothing did.
 */
export interface ClaimNotes {
  /** A value under the key was no record (foreign or corrupt); it was treated as absent. */
  readonly badRecord?: unknown
  /** The shared store failed this claim, which the in-process store answered instead. */
  readonly fallback?: unknown
}

/** What `RecordStore.claim` found under a record key. */
export type ClaimAnswer =
  /**
   * The record was free and is now this caller's, in flight, until its lease ends. `abandoned`:
   * it was not free but abandoned, its earlier holder's lease having lapsed with no outcome after
   * it marked the call sent: that holder may have sent it, and this caller now holds the record
   * in its place.
   */
  | { readonly status: 'claimed'; readonly token: string; readonly abandoned?: true }
  /** Another caller holds the record with the same fingerprint and has not finished. */
  | { readonly status: 'inFlight' }
  /**
   * The same request finished before: here is its outcome, a copy of its own, and the ms the
   * record is kept for yet.
   */
  | { readonly status: 'done'; readonly outcome: RecordedOutcome; readonly ttlLeft: number }
  /** The record belongs to a different request (another fingerprint), in flight or done. */
  | { readonly status: 'conflict' }

/** `claim`'s answer, with what went wrong on the way. */
export type ClaimResult = ClaimAnswer & ClaimNotes

/**
 * Where idempotency records live, one per (credential, key). A record is free, in flight (held
 * by a lease token until the lease ends), sent (in flight, and its holder said its call was
 * about to leave), abandoned (a sent record's lease lapsed with no outcome: the holder died or
 * stalled after sending its call) or done (an outcome kept for its TTL).
 *
 * Every method is one atomic step, so that a shared store can implement it with one round trip
 * each: on Redis, each is a script that reads the lease's end from the record against Redis' own
 * clock; `renew`, `markSent`, `complete` and `release` act only while the token still owns the
 * record, and `wait` polls or subscribes. A lease that lapses on a sent record leaves it
 * abandoned for the `ttlMs` its claim gave; the next claim of the same fingerprint takes it over
 * and is told so. A lease that lapses on a record never marked sent frees it: nothing left. A
 * holder whose lease lapsed still owns the record until someone takes it over; once taken, its
 * late `complete` changes nothing. `release` frees the record (nothing was sent, or a failure
 * another attempt may cure), except that of a holder that took it over abandoned: the earlier
 * call may still have been applied, so the record stands abandoned again, as it does should that
 * holder's own lease lapse, sent or not. Every implementation runs
 * `test/conformance/record-store.ts`.
 */
export interface RecordStore {
  /**
   * Takes the record for `fingerprint` for `leaseMs`, or says who has it. A done record with
   * the same fingerprint answers with its outcome; an abandoned one, or a sent one whose lease
   * lapsed, is taken over (`abandoned`), and one never sent whose lease lapsed is simply claimed;
   * any record with another fingerprint is a conflict. Should this claim's own lease lapse once
   * it is marked sent, the record stands abandoned for `ttlMs` past its end.
   */
  claim(
    recordKey: string,
    fingerprint: string,
    leaseMs: number,
    ttlMs: number,
  ): Promise<ClaimResult>
  /** Extends the lease to `leaseMs` from now. False when `token` no longer owns the record. */
  renew(recordKey: string, token: string, leaseMs: number): Promise<boolean>
  /**
   * Marks the record sent: its call is about to leave, so a lease that lapses from now on leaves
   * it abandoned. Marking it again changes nothing. False when `token` no longer owns the record.
   */
  markSent(recordKey: string, token: string): Promise<boolean>
  /**
   * Records the outcome for `ttlMs` and wakes the waiters. False, and nothing changes, when
   * `token` no longer owns the record: a late finisher never overwrites a newer holder.
   */
  complete(
    recordKey: string,
    token: string,
    outcome: RecordedOutcome,
    ttlMs: number,
  ): Promise<boolean>
  /**
   * Frees the record (nothing is recorded), or leaves it abandoned again when the token took it
   * over abandoned, and wakes the waiters. False when not owned.
   */
  release(recordKey: string, token: string): Promise<boolean>
  /**
   * Resolves when the record may have changed: it was completed or released, its lease
   * lapsed, or it is not in flight now. The caller claims again to see. Rejects with the signal's
   * reason when it aborts.
   */
  wait(recordKey: string, signal: AbortSignal | undefined): Promise<void>
  /** Lets go of what the store holds; waiters are woken. */
  close(): Promise<void>
}
