/**
 * Token-bucket math as GCRA (generic cell rate algorithm): pure, no clock of its own, `now`
 * comes from the caller. One number per bucket, the theoretical arrival time (TAT): the instant
 * the bucket would be full again. A TAT at or before `now` is a full bucket, so a bucket that
 * was never used needs no state at all; a TAT more than one burst ahead of `now` is a debt.
 *
 * With T = 1000 / refillPerSecond ms per token and τ = capacity · T, a call of cost n may start
 * at `max(tat, now) + n·T − τ`. Storing the new TAT when that start is still in the future is a
 * reservation: the tokens are taken now, the call sleeps until its start, and every later
 * arrival queues behind it, in any process that shares the state.
 *
 * Every input the options accept keeps the numbers finite: T is at most `maxTimerMs` (so never
 * Infinity, whose `0 · T` would be NaN) and so is τ; a debt and a pause are bounded here too.
 */
import { maxServerWaitMs, maxTimerMs } from '../core/validate.js'

/** The configured budget of one bucket. */
export interface BucketLimits {
  /** Most tokens held (the burst). */
  readonly capacity: number
  /** Tokens added per second. */
  readonly refillPerSecond: number
}

/** What one bucket under one key remembers. Absent means full, unpaused, never synced. */
export interface BucketState {
  /** Theoretical arrival time, ms: when the bucket is full again. */
  readonly tat: number
  /** No call starts before this (a server's 429 asked us to wait), ms. */
  readonly pausedUntil: number
  /** The server time (`Date`) of the newest response that lowered the bucket, ms. */
  readonly syncedAt: number
  /** The TAT the server's last reported remaining implies: refunds never go below it. */
  readonly floor: number
}

/** The state of a bucket nobody has used yet. */
export const fullBucket: BucketState = {
  tat: Number.NEGATIVE_INFINITY,
  pausedUntil: Number.NEGATIVE_INFINITY,
  syncedAt: Number.NEGATIVE_INFINITY,
  floor: Number.NEGATIVE_INFINITY,
}

export type Decision =
  | {
      readonly granted: true
      /** ms until the call may start (0: at once). */
      readonly wait: number
      /** Index of the bucket that set the start (the one the call waits for). */
      readonly binding: number
      /** The states to store, in the order of the input. */
      readonly states: readonly BucketState[]
      /** How far each TAT moved, ms: what `refund` gives back. */
      readonly debits: readonly number[]
    }
  | {
      readonly granted: false
      /** ms after which the buckets could admit the call; Infinity when they never can. */
      readonly retryAfter: number
      /** Index of the bucket that refused. */
      readonly binding: number
      /** The cost exceeds that bucket's capacity: no wait will ever admit it. */
      readonly exceedsCapacity: boolean
    }

// Written out rather than spread: a decision allocates these on the hot path, and one literal
// shape keeps V8's property access monomorphic.
function withTat(state: BucketState, tat: number): BucketState {
  return { tat, pausedUntil: state.pausedUntil, syncedAt: state.syncedAt, floor: state.floor }
}

/** ms per token. */
function interval(limits: BucketLimits): number {
  return 1_000 / limits.refillPerSecond
}

/**
 * Decides one call over all of its buckets together: either every bucket admits it and every
 * bucket is debited, or none is touched. The call starts when the last of its buckets (and of
 * their pauses) allows; a start further than `maxWait` ms away is refused.
 *
 * Each TAT moves from `max(tat, start)`, not from `now`: the tokens are counted as spent when
 * the call really starts, so a call held by another bucket or by a pause cannot be followed by
 * a burst that the server would see land on top of it.
 */
export function take(
  states: readonly BucketState[],
  costs: readonly number[],
  limits: readonly BucketLimits[],
  now: number,
  maxWait: number,
): Decision {
  let start = now
  let binding = 0
  for (let i = 0; i < limits.length; i++) {
    const l = limits[i] as BucketLimits
    const cost = costs[i] as number
    if (cost > l.capacity) {
      return {
        granted: false,
        retryAfter: Number.POSITIVE_INFINITY,
        binding: i,
        exceedsCapacity: true,
      }
    }
    const s = states[i] as BucketState
    const t = interval(l)
    const own = Math.max(s.pausedUntil, Math.max(s.tat, now) + (cost - l.capacity) * t)
    if (own > start) {
      start = own
      binding = i
    }
  }
  const wait = start - now
  if (wait > maxWait) return { granted: false, retryAfter: wait, binding, exceedsCapacity: false }
  const next: BucketState[] = []
  const debits: number[] = []
  for (let i = 0; i < limits.length; i++) {
    const s = states[i] as BucketState
    const tat = Math.max(s.tat, start) + (costs[i] as number) * interval(limits[i] as BucketLimits)
    next.push(withTat(s, tat))
    debits.push(tat - Math.max(s.tat, now))
  }
  return { granted: true, wait, binding, states: next, debits }
}

/** Gives back a reservation that will not be used: `debit` is what `take` reported. */
export function refund(state: BucketState, debit: number): BucketState {
  return withTat(state, Math.max(state.tat - debit, state.floor))
}

/**
 * Adds `delta` tokens (negative: takes them into debt). A refund never lifts the balance above
 * the capacity, nor above what the server last reported. A debt is held to `maxTimerMs` past
 * empty: an `actualCost` gone wrong must not lock the bucket for ever (nor reach Infinity).
 */
export function adjust(
  state: BucketState,
  delta: number,
  limits: BucketLimits,
  now: number,
): BucketState {
  const t = interval(limits)
  const moved = delta * t
  if (delta >= 0) return withTat(state, Math.max(state.tat - moved, state.floor))
  const deepest = now + limits.capacity * t + maxTimerMs
  return withTat(state, Math.max(state.tat, Math.min(Math.max(state.tat, now) - moved, deepest)))
}

/**
 * Holds every call back for `ms` from `now`, as a server asked; a shorter pause never cuts a
 * longer one. The wait is clamped to `maxServerWaitMs`: one answer (`Retry-After: 99999999`, a
 * date in 9999) must not stop a bucket for years.
 */
export function pause(state: BucketState, ms: number, now: number): BucketState {
  const pausedUntil = Math.max(state.pausedUntil, now + Math.min(ms, maxServerWaitMs))
  return { tat: state.tat, pausedUntil, syncedAt: state.syncedAt, floor: state.floor }
}

/**
 * At least as spent as a bucket that is full again at `fullAt` and paused until `pausedUntil`
 * (ms): what another store said of the same bucket, taken over at a switch between them. It only
 * ever lowers the balance.
 */
export function spend(state: BucketState, fullAt: number, pausedUntil: number): BucketState {
  if (fullAt <= state.tat && pausedUntil <= state.pausedUntil) return state
  return {
    tat: Math.max(state.tat, fullAt),
    pausedUntil: Math.max(state.pausedUntil, pausedUntil),
    syncedAt: state.syncedAt,
    floor: state.floor,
  }
}

/**
 * Lowers the balance to what the server reports `remaining` at server time `at`, never raising
 * it. A response older than the last one applied is stale (responses finish out of order) and
 * changes nothing.
 */
export function lower(
  state: BucketState,
  remaining: number,
  at: number,
  limits: BucketLimits,
  now: number,
): BucketState {
  if (at < state.syncedAt) return state
  const t = interval(limits)
  const floor = now + (limits.capacity - remaining) * t
  return { tat: Math.max(state.tat, floor), pausedUntil: state.pausedUntil, syncedAt: at, floor }
}

/** Tokens in the bucket at `now`: at most the capacity, below zero in debt. */
export function balance(state: BucketState, limits: BucketLimits, now: number): number {
  return limits.capacity - Math.max(0, state.tat - now) / interval(limits)
}

/** When forgetting the state will lose nothing: the bucket is full and not paused from then on. */
export function idleAt(state: BucketState): number {
  return Math.max(state.tat, state.pausedUntil)
}

/** True when forgetting the state loses nothing: the bucket is full and not paused. */
export function isIdle(state: BucketState, now: number): boolean {
  return idleAt(state) <= now
}
