import type { CacheEntries } from '../cache/entries.js'
import type { Call } from '../core/call.js'
import type { StageContext } from '../core/context.js'
import { eventBase, reportFallback } from '../core/context.js'
import type { Outcome } from '../core/outcome.js'
import type { Next } from '../core/stage.js'
import type { RedisConnection } from '../redis/connection.js'
import { doneMark, type LeaseKeeper } from './lease-keeper.js'
import type { LeaseWatch } from './lease-wakeups.js'

/** Bounds of the delay between two polls of a waiter, ms, growing by half each time. */
export interface Polls {
  readonly first: number
  readonly last: number
}

/**
 * The polls of a waiter: 20 ms growing to 200 ms, as before notifications came, so that a
 * notification missed (a subscriber down, a message lost in a gap, a holder that died between
 * storing and releasing) never makes a call wait longer than it did. Waiters woken in time by
 * a notification rarely reach their second poll.
 */
export const defaultPolls: Polls = { first: 20, last: 200 }

/** What a waiter needs of the lease stage it waits in. */
export interface LeaseWaitDeps {
  readonly ctx: StageContext
  readonly connection: RedisConnection
  readonly entries: CacheEntries
  readonly keeper: LeaseKeeper
  readonly polls: Polls
  /** Goes upstream under the lease, once this waiter took it over. */
  readonly hold: (call: Call, next: Next, key: string, token: string) => Promise<Outcome>
}

type Seen = Outcome | 'done' | 'free' | 'held'

/**
 * One look at the lease and the cache: the outcome another process stored, or what became of
 * the lease. The lease is read first: its holder stores before it releases, so a lease seen
 * gone means the entry, if any, is there to be read next.
 */
async function look(deps: LeaseWaitDeps, call: Call, key: string): Promise<Seen> {
  const holder = await deps.connection.command<string | null>(['GET', key], key)
  deps.keeper.answered()
  const outcome = await deps.entries.fresh(call)
  if (outcome !== undefined) return outcome
  if (holder === doneMark) return 'done'
  return holder === null ? 'free' : 'held'
}

/**
 * Waits for the entry another process is fetching under the lease `key`: looks whenever the
 * watch is woken (the holder published its release) or the next poll is due, until the entry
 * is there, the holder says there will be none (the waiter goes itself), or the lease is free
 * (the waiter takes it over). Bounded by the call's signal and deadline; when Redis fails, the
 * call goes on alone.
 */
export async function waitForEntry(
  deps: LeaseWaitDeps,
  call: Call,
  next: Next,
  key: string,
  token: string,
  watch: LeaseWatch,
): Promise<Outcome> {
  const { counters, events, clock } = deps.ctx
  const started = clock.now()
  let delay = deps.polls.first
  for (;;) {
    await watch.nap(delay, call.signal)
    delay = Math.min(delay * 1.5, deps.polls.last)
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
    if (typeof seen === 'object') {
      counters.coalesced++
      if (events.wants('leaseJoined')) {
        events.emit({ type: 'leaseJoined', ...eventBase(call), waited: clock.now() - started })
      }
      return seen
    }
    if (seen === 'done') return next(call)
    if (takenOver) {
      if (events.wants('leaseTakeover')) events.emit({ type: 'leaseTakeover', ...eventBase(call) })
      return deps.hold(call, next, key, token)
    }
  }
}
