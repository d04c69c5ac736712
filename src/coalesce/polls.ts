/** Bounds of the delay between two polls of a waiter, ms, growing by half each time. */
export interface Polls {
  readonly first: number
  readonly last: number
}

/**
 * The polls of a waiter to whom no notification can come (no subscriber yet, a cluster, one that
 * is down or refused): 20 ms growing to 200 ms, as before notifications came.
 */
export const quickPolls: Polls = { first: 20, last: 200 }

/**
 * The polls of a waiter whose subscriber is live: the holder's notification wakes it, and a
 * poll only catches a notification missed (a holder that died between storing and releasing,
 * a PUBLISH refused). Rare enough that polling fast for them would cost every wait more Redis
 * round trips than it saves.
 */
export const livePolls: Polls = { first: 250, last: 1_000 }

/** ms past a lease's end at which its waiters look: by then Redis has let it go. */
const expiryMargin = 5

/**
 * ms until a waiter's poll number `n` (0 for the first): `polls.first` growing by half each
 * time up to `polls.last`, but never past the end of the lease last seen (`heldFor` ms from
 * then, when its holder died its waiters take over at once) nor the call's deadline
 * (`untilDeadline` ms from now). Infinity for either means none.
 */
export function nextPoll(polls: Polls, n: number, heldFor: number, untilDeadline: number): number {
  const scheduled = Math.min(polls.first * 1.5 ** n, polls.last)
  return Math.max(0, Math.min(scheduled, heldFor + expiryMargin, untilDeadline))
}
