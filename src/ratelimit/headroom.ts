/**
 * How much room a call's buckets hold before it is sent, from their balances: pure, no I/O.
 * A pool reads it for each of its targets to send a call where it can start soonest.
 */
import type { BucketRequest } from './bucket-store.js'

/** When a call could start on its buckets, and how full the fullest-spent of them is. */
export interface Headroom {
  /** ms until every bucket holds the call's cost (0: at once). */
  readonly wait: number
  /** The lowest balance as a share of its capacity, in [0, 1]: 1 is a full bucket. */
  readonly share: number
}

/** Room of a call that takes from no bucket. */
export const unlimited: Headroom = { wait: 0, share: 1 }

/**
 * The headroom of `requests`, given each bucket's `balances` (in the same order). A GCRA
 * bucket short of `cost` tokens fills at `refillPerSecond`: the call could start once the
 * missing tokens have come in, as `acquire` would grant it.
 */
export function headroom(
  requests: readonly BucketRequest[],
  balances: readonly number[],
): Headroom {
  let wait = 0
  let share = 1
  requests.forEach((request, i) => {
    const { capacity, refillPerSecond } = request.bucket
    const balance = balances[i] ?? capacity
    const missing = request.cost - balance
    if (missing > 0) wait = Math.max(wait, (missing * 1_000) / refillPerSecond)
    share = Math.min(share, Math.max(0, Math.min(balance, capacity)) / capacity)
  })
  return { wait, share }
}
