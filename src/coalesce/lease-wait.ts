import type { CacheEntries } from '../cache/entries.js'
import type { Call } from '../core/call.js'
import type { StageContext } from '../core/context.js'
import { eventBase, reportFallback } from '../core/context.js'
import type { Outcome } from '../core/outcome.js'
import type { Next } from '../core/stage.js'
import type { RedisConnection } from '../redis/connection.js'
import { doneMark, type LeaseKeeper, leftOf } from './lease-keeper.js'
import type { LeaseWatch } from './lease-wakeups.js'
import { nextPoll, type Polls } from './polls.js'

/** What a waiter needs of the lease stage it waits in. */
export interface LeaseWaitDeps {
  readonly ctx: StageContext
  readonly connection: RedisConnection
  readonly entries: CacheEntries
  readonly keeper: LeaseKeeper
  /** The polls while no notification can come (no subscriber, a cluster, one that is down). */
  readonly polls: Polls
  /** The polls while the holders' notifications reach this process: a safety net only. */
  readonly livePolls: Polls
  /** True while the holders' notifications reach this process. */
  readonly live: () => boolean
  /** Goes upstream under the lease, once this waiter took it over. */
  readonly hold: (call: Call, next: Next, key: string, token: string) => Promise<Outcome>
}

/** What one look found: the entry, or what became of the lease (held: for how many ms more). */
type Seen = { readonly found: Outcome } | { readonly heldFor: number } | 'done' | 'free'

/**
 * One look at the cache and the lease. The entry is read first: a holder stores it before it
 * releases and says so, so a waiter woken by that finds it in one round trip. Only without it
 * is the lease read, with the ms it has left (a lease whose holder died runs out then). A lease
 * seen gone may have been released after the entry was read: the entry is read once more
 * before the waiter takes the lease over, or the upstream would be called twice.
 */
async function look(deps: LeaseWaitDeps, call: Call, key: string): Promise<Seen> {
  const stored = await deps.entries.fresh(call)
  if (stored !== undefined) return { found: stored }
  const [holder, left] = await deps.connection.run((send) =>
    Promise.all([send<string | null>(['GET', key], key), send<number>(['PTTL', key], key)]),
  )
  deps.keeper.answered()
  if (holder === doneMark) return 'done'
  if (holder !== null) return { heldFor: leftOf(left) }
  const late = await deps.entries.fresh(call)
  return late === undefined ? 'free' : { found: late }
}

/**
 * Waits for the entry another process is fetching under the lease `key`, which its claim found
 * held for `claimedHeldFor` ms more: looks whenever the
 * watch is woken (the holder published its release) or the next poll is due, until the entry
 * is there, the holder says there will be none (the waiter goes itself), or the lease is free
 * (the waiter takes it over). Polls are quick while no notification can come, and a slow safety
 * net while they do; either way a waiter looks as soon as the lease it saw runs out, so a holder
 * that died is replaced within ms of its lease's end. Bounded by the call's signal and deadline;
 * when Redis fails, the call goes on alone.
 */
export async function waitForEntry(
  deps: LeaseWaitDeps,
  call: Call,
  next: Next,
  key: string,
  token: string,
  watch: LeaseWatch,
  claimedHeldFor: number,
): Promise<Outcome> {
  const { counters, events, clock } = deps.ctx
  const started = clock.now()
  let polled = 0
  let heldFor = claimedHeldFor
  for (;;) {
    const polls = deps.live() ? deps.livePolls : deps.polls
    const untilDeadline =
      call.deadline === undefined ? Number.POSITIVE_INFINITY : call.deadline - clock.now()
    await watch.nap(nextPoll(polls, polled++, heldFor, untilDeadline), call.signal)
    // Past its deadline the call waits no more; the stages below refuse it as timed out.
    if (call.deadline !== undefined && clock.now() >= call.deadline) return next(call)
    let seen: Seen
    let takenOver = false
    try {
      seen = await look(deps, call, key)
      if (seen === 'free') takenOver = await deps.keeper.acquire(key, token)
    } catch (error) {
      reportFallback(deps.ctx, call, 'lease', error)
      return next(call)
    }
    if (seen === 'done') return next(call)
    if (typeof seen === 'object' && 'found' in seen) {
      counters.coalesced++
      if (events.wants('leaseJoined')) {
        events.emit({ type: 'leaseJoined', ...eventBase(call), waited: clock.now() - started })
      }
      return seen.found
    }
    if (takenOver) {
      if (events.wants('leaseTakeover')) events.emit({ type: 'leaseTakeover', ...eventBase(call) })
      return deps.hold(call, next, key, token)
    }
    heldFor = typeof seen === 'object' ? seen.heldFor : Number.POSITIVE_INFINITY
  }
}
