import { randomUUID } from 'node:crypto'
import type { CacheEntries } from '../cache/entries.js'
import type { Call } from '../core/call.js'
import type { Timers } from '../core/clock.js'
import type { StageContext } from '../core/context.js'
import { reportFallback } from '../core/context.js'
import type { Outcome } from '../core/outcome.js'
import type { Next, Stage } from '../core/stage.js'
import { maxTimerMs } from '../core/validate.js'
import type { RedisConnection } from '../redis/connection.js'
import { type Claim, doneMark, LeaseKeeper } from './lease-keeper.js'
import { type LeaseWaitDeps, waitForEntry } from './lease-wait.js'
import { LeaseWakeups } from './lease-wakeups.js'
import { livePolls, type Polls, quickPolls } from './polls.js'

/** Fewest ms a lease lasts unrenewed. */
const minLeaseMs = 3_000

/**
 * ms a lease lasts unless renewed, for a connection whose operations get `redisTimeout` ms.
 * It is what the waiters of a holder that died wait before one takes over, so it is short, and
 * the holder renews it every third of it: the lease outlives two renewals that fail in a row,
 * and a renewal is only sent once the one before it has had its whole timeout.
 */
export function leaseLength(redisTimeout: number): number {
  // Whole ms: `PX` refuses a fraction, and `redis.timeout` may have one.
  return Math.min(maxTimerMs, Math.max(minLeaseMs, Math.ceil(3 * redisTimeout)))
}

/** The lease stage, and how to end the leases it still holds. */
export interface LeaseStage {
  readonly stage: Stage
  /** Stops every renewal and releases the leases still held, before the connection closes. */
  close(): Promise<void>
}

/** Internal settings, for tests: the poll schedules, their timers, whether to subscribe. */
export interface LeaseTuning {
  /** The polls while no notification can come. @default quickPolls */
  readonly polls?: Polls
  /** The polls while the subscriber is live. @default livePolls */
  readonly livePolls?: Polls
  /** What the waiters' polls wait on. @default the global timers */
  readonly timers?: Timers
  readonly subscribe?: boolean
}

/**
 * Coalescing across processes, in Redis mode. Sits below the in-process single flight, so one
 * process makes at most one lease attempt per key, and applies to calls both cacheable and
 * coalescible (background refreshes included).
 *
 * The first process to `SET lease NX PX` holds the lease and goes upstream; it stores the entry,
 * then releases the lease with a token check (a late holder never ends another's lease) and,
 * in the same script, publishes that it did. The lease is short (`leaseLength`) and renewed
 * while the call runs, so retries do not lose it and a holder that died holds nobody for long.
 * The holder's own callers get the outcome once it is stored; the release goes on behind them.
 * The others are woken by that message (`LeaseWakeups`) and read the entry at once; they poll
 * only as a safety net while the message can come, quickly while it cannot, and look again as
 * soon as the lease they saw runs out. When the lease ends with no entry (its holder died, or
 * was aborted), one waiter takes it over. When the holder got nothing it may store (a 500,
 * `no-store`, a `storable` hook that refused or threw), it leaves a short "done" mark and the
 * waiters go upstream themselves rather than wait. Waiters stop at their own signal and
 * deadline.
 *
 * When Redis fails, the call goes on alone: coalesced in process only, counted in
 * `redisFallbacks`, reported as a `redisFallback` event.
 */
export function createLeaseStage(
  ctx: StageContext,
  connection: RedisConnection,
  entries: CacheEntries,
  tuning: LeaseTuning = {},
): LeaseStage {
  const wakeups = new LeaseWakeups(connection, tuning.subscribe ?? true, tuning.timers)
  const keeper = new LeaseKeeper(connection, leaseLength(connection.timeout), wakeups.channel)
  let closed = false

  const hold = async (call: Call, next: Next, key: string, token: string): Promise<Outcome> => {
    if (closed) {
      // Acquired while the instance closed: nothing may renew it now, so it goes at once.
      await keeper.drop(key, token).catch(() => {})
      return next(call)
    }
    const lease = keeper.take(key, token)
    // Until the outcome is stored, the waiters had better go upstream themselves.
    let mark = doneMark
    try {
      const outcome = await next(call)
      if (await entries.save(call, outcome)) mark = ''
      return outcome
    } catch (error) {
      // Aborted by its own callers, the call says nothing of the upstream: one waiter retries.
      if (call.signal?.aborted === true) mark = ''
      throw error
    } finally {
      // The callers go once the entry is stored, which is all they wait for; the release, which
      // lets the waiters of other processes go, goes on behind them (close() waits for it).
      void keeper.end(lease, mark)
    }
  }
  const deps: LeaseWaitDeps = {
    ctx,
    connection,
    entries,
    keeper,
    polls: tuning.polls ?? quickPolls,
    livePolls: tuning.livePolls ?? livePolls,
    // A Redis marked down fails the next look at once: better found out soon.
    live: () => wakeups.live && !connection.down,
    hold,
  }

  const stage: Stage = async (call, next) => {
    if (!call.cacheable || !call.coalescible) return next(call)
    const key = connection.key('lease', call.key)
    const token = randomUUID()
    // Watched before the SET: a release that follows a refused SET is heard.
    const watch = wakeups.watch(key)
    try {
      let claim: Claim
      try {
        claim = await keeper.claim(key, token)
      } catch (error) {
        reportFallback(ctx, call, 'lease', error)
        return next(call)
      }
      // Awaited here, so that the watch lasts as long as the wait.
      return await (claim.held
        ? hold(call, next, key, token)
        : waitForEntry(deps, call, next, key, token, watch, claim.heldFor))
    } finally {
      watch.leave()
    }
  }

  return {
    stage,
    async close() {
      closed = true
      // The leases first: their releases still wake waiters of other processes.
      await keeper.close()
      await wakeups.close()
    },
  }
}
