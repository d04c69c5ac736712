/**
 * Where token buckets live: in memory for one process, in Redis (one Lua script per decision,
 * on Redis' own clock) for many. The stage speaks only this interface, so both decide alike:
 * every method that changes state is one atomic operation over all the buckets it names.
 */
import type { BucketLimits } from './token-bucket.js'

/** A bucket as a store needs it: its name (part of the state's key) and its budget. */
export interface BucketSpec extends BucketLimits {
  readonly name: string
  /**
   * Most partitions holding spent budget that a store in memory keeps of this bucket (Redis
   * holds its own). @default the store's `maxKeys`
   */
  readonly maxKeys?: number
}

/** One bucket of a call: which bucket, which partition of it, and what the call costs there. */
export interface BucketRequest {
  readonly bucket: BucketSpec
  /** The partition (per host, per API key, per model...). */
  readonly key: string
  /** Tokens the call takes from this bucket. */
  readonly cost: number
}

/** One bucket under one key. */
export interface BucketTarget {
  readonly bucket: BucketSpec
  readonly key: string
}

/**
 * Tokens taken for a call that may still be waiting for its start. Only the store that issued
 * it reads what is inside; callers hand it back to `refund` as they got it.
 */
export interface Reservation {
  readonly parts: ReadonlyArray<BucketTarget & { readonly debit: number }>
}

export type Acquired = (
  | {
      readonly granted: true
      /** ms to wait before the call starts; its place is held meanwhile. */
      readonly wait: number
      /** The bucket the call waits for (the first one when it need not wait). */
      readonly bucket: string
      readonly reservation: Reservation
      /**
       * When the store decided, ms on its own clock (Redis' TIME), which `wait` counts from.
       * Absent from a store in this process: it decided as it answered.
       */
      readonly decidedAt?: number
    }
  | {
      readonly granted: false
      /** ms after which the buckets could admit the call; Infinity when they never can. */
      readonly retryAfter: number
      /** The bucket that refused. */
      readonly bucket: string
      /** The cost exceeds that bucket's capacity: no wait will ever admit the call. */
      readonly exceedsCapacity: boolean
      /**
       * Set when the call was refused for room alone: the bucket holds spent budget in this many
       * partitions (its `maxKeys`), none of them the call's, and forgets none until it is full
       * again; `retryAfter` is when the first of them will be.
       */
      readonly maxKeys?: number
    }
) & {
  /**
   * Set when the shared buckets (Redis) could not decide: the answer came from the local
   * fallback (`'fallback'`), or is a refusal for that reason alone (`'reject'`). The stage
   * reports it with the call.
   */
  readonly degraded?: { readonly by: 'fallback' | 'reject'; readonly error: unknown }
  /**
   * How spent each bucket of the call is after the decision (in the order of the call), for a
   * store that stands in for this one to start from. Only Redis says.
   */
  readonly spent?: readonly Spent[]
}

/** How spent one partition is, in ms from now; 0 when it is full, or not paused. */
export interface Spent {
  /** Until the bucket is full again. */
  readonly full: number
  /** Until its pause (a server's 429) ends. */
  readonly paused: number
}

/** One partition and how spent it is: what a store hands over at a switch to another. */
export interface PartitionSpent extends Spent {
  /** The bucket's name. */
  readonly name: string
  readonly key: string
}

/** A server's report on one bucket: how many tokens it has left. */
export interface BucketLowering extends BucketTarget {
  readonly remaining: number
}

export interface BucketStore {
  /**
   * Checks every bucket of a call together and debits them together, or none of them. A call
   * that cannot start within `maxWait` ms is refused and costs nothing; one that can is granted
   * a start (`wait` ms from now), its tokens taken at once so that later calls queue behind it.
   */
  acquire(requests: readonly BucketRequest[], maxWait: number): Promise<Acquired>
  /** Gives back the tokens of a granted call that will not start (it aborted while waiting). */
  refund(reservation: Reservation): Promise<void>
  /** Adds `delta` tokens (negative: a debt); never lifts a bucket above its capacity. */
  adjust(target: BucketTarget, delta: number): Promise<void>
  /**
   * Holds every call on these buckets back for `ms` (a server's 429 with Retry-After), clamped to
   * `maxServerWaitMs`.
   */
  pause(targets: readonly BucketTarget[], ms: number): Promise<void>
  /**
   * Lowers each bucket to the server's `remaining`, never raising it. `at` is the server time of
   * the response (its `Date`): a response older than the last one applied changes nothing.
   */
  lower(updates: readonly BucketLowering[], at: number): Promise<void>
  /** Tokens in the bucket now: at most its capacity, negative in debt. */
  balance(target: BucketTarget): Promise<number>
  /** Releases what the store holds (connections, timers). */
  close(): Promise<void>
}
