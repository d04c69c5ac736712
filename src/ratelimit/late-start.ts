/**
 * When a granted start is missed. A grant is a start time on the bucket's clock; a process that
 * stalls (a long GC, a CPU shared with busier processes) between asking and starting reads the
 * grant late, or wakes late from its wait, and its call goes out on top of the calls granted
 * after it, which went on time: a burst the bucket never allowed, and a strict server refuses.
 * Such a call takes a new turn instead. Pure: times come from the caller.
 */
import type { BucketLimits } from './token-bucket.js'

/**
 * ms late that never counts as missed: a timer fires a few ms late on any busy machine, and a
 * new turn costs a round trip and a wait that such lateness does not warrant.
 */
export const leastLateness = 10

/** ms each of the two windows of `createReadLags` spans. */
const lagWindow = 5_000

/**
 * ms past its granted start that a call may still go: the time the tightest bucket takes to
 * refill its burst (`capacity / perSecond`), so that late calls at worst double a burst,
 * and at least `leastLateness`.
 */
export function lateBound(buckets: readonly BucketLimits[]): number {
  let tightest = Number.POSITIVE_INFINITY
  for (const b of buckets) tightest = Math.min(tightest, (b.capacity * 1_000) / b.refillPerSecond)
  return Math.max(leastLateness, tightest)
}

/**
 * How soon after the store's decision (on its clock: Redis' TIME) its answers are read, on
 * this process's clock: the difference of two clocks, of which only the changes matter. Its
 * fastest recent value maps a decision onto this process's clock; an answer read later than
 * that was read late because this process was busy or stalled, not because the store decided
 * late (an ask queued behind others on the way in is decided late and answered on time).
 */
export interface ReadLags {
  /**
   * Notes the lag of one answer read at `at` and returns the fastest one remembered. A stall
   * that spans a window counts in the window it began in, so `at` is best taken at the ask.
   */
  note(lag: number, at: number): number
}

export function createReadLags(): ReadLags {
  // The fastest of this window and of the one before: one answer read late at the turn of a
  // window never stands for the norm, and a clock that drifted apart is the norm within two
  // windows.
  let current = Number.POSITIVE_INFINITY
  let previous = Number.POSITIVE_INFINITY
  let windowEnd = Number.NEGATIVE_INFINITY
  return {
    note(lag, at) {
      if (at >= windowEnd) {
        previous = at >= windowEnd + lagWindow ? Number.POSITIVE_INFINITY : current
        current = Number.POSITIVE_INFINITY
        windowEnd = at + lagWindow
      }
      current = Math.min(current, lag)
      return Math.min(current, previous)
    },
  }
}

/** ms by which a call starting at `now` missed the start granted `wait` ms after `decidedAt`. */
export function lateness(now: number, decidedAt: number, wait: number): number {
  return now - (decidedAt + wait)
}
