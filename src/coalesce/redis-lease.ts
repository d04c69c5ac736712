import { randomUUID } from 'node:crypto'
import type { CacheEntries } from '../cache/cache-stage.js'
import { sleep } from '../clock.js'
import type { StageContext } from '../context.js'
import { eventBase, reportFallback } from '../context.js'
import type { Call, Next, Outcome, Stage } from '../pipeline.js'
import type { RedisConnection } from '../redis/connection.js'
import { RedisScript } from '../redis/scripts.js'

/** ms a lease outlives the attempt it covers: room to store the entry and release. */
const leaseMargin = 1_000
/** ms a lease covers when calls have no per-attempt timeout. */
const untimedLease = 30_000
/** ms a "done, nothing stored" mark stays: every waiter polls within it. */
const doneMs = 1_000
/** What a lease holds once its holder finished with nothing to share; tokens are UUIDs. */
const done = 'done'
/** Bounds of the delay between two polls of a waiter, ms, growing by half each time. */
const firstPoll = 20
const lastPoll = 200

/** Ends a lease only if it is still ours: deletes it (`ARGV[2]` empty) or leaves the mark. */
const release = new RedisScript(`if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[2] == '' then return redis.call('DEL', KEYS[1]) end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1`)

/** Extends a lease only if it is still ours. */
const renew = new RedisScript(`if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
return redis.call('PEXPIRE', KEYS[1], ARGV[2])`)

/**
 * Coalescing across processes, in Redis mode. Sits below the in-process single flight, so one
 * process makes at most one lease attempt per key, and applies to calls both cacheable and
 * coalescible (background refreshes included).
 *
 * The first process to `SET lease NX PX` holds the lease and goes upstream; it stores the entry,
 * then releases the lease with a token check (a late holder never ends another's lease). It
 * renews the lease while its call runs, so retries do not lose it. The others poll the lease
 * and the cache with backoff until the entry appears. When the lease ends with no entry (its
 * holder died, or was aborted), one waiter takes it over. When the holder got nothing it may
 * store (a 500, `no-store`), it leaves a short "done" mark and the waiters go upstream
 * themselves rather than wait. Waiters stop at their own signal and deadline.
 *
 * When Redis fails, the call goes on alone: coalesced in process only, counted in
 * `redisFallbacks`, reported as a `redisFallback` event.
 */
export function createLeaseStage(
  ctx: StageContext,
  connection: RedisConnection,
  entries: CacheEntries,
): Stage {
  const { counters, events, clock } = ctx

  const acquire = async (key: string, token: string, leaseMs: number): Promise<boolean> =>
    (await connection.command(['SET', key, token, 'NX', 'PX', String(leaseMs)], key)) === 'OK'

  const alone = (call: Call, next: Next, error: unknown): Promise<Outcome> => {
    reportFallback(ctx, call, 'lease', error)
    return next(call)
  }

  const hold = async (call: Call, next: Next, key: string, token: string, leaseMs: number) => {
    const renewal = setInterval(() => {
      // A renewal that fails leaves the lease to expire: a waiter then takes over.
      renew.run(connection, [key], [token, String(leaseMs)]).catch(() => {})
    }, leaseMs / 3)
    const end = async (mark: string) => {
      clearInterval(renewal)
      await release.run(connection, [key], [token, mark, String(doneMs)]).catch(() => {})
    }
    let outcome: Outcome
    try {
      outcome = await next(call)
    } catch (error) {
      // Aborted by its own callers, the call says nothing of the upstream: one waiter retries.
      await end(call.signal?.aborted === true ? '' : done)
      throw error
    }
    const stored = await entries.save(call, outcome)
    await end(stored ? '' : done)
    return outcome
  }

  /**
   * One look at the lease and the cache: the outcome another process stored, or what became of
   * the lease. The lease is read first: its holder stores before it releases, so a lease seen
   * gone means the entry, if any, is there to be read next.
   */
  const look = async (call: Call, key: string): Promise<Outcome | 'done' | 'free' | 'held'> => {
    const holder = await connection.command<string | null>(['GET', key], key)
    const outcome = await entries.fresh(call)
    if (outcome !== undefined) return outcome
    if (holder === done) return 'done'
    return holder === null ? 'free' : 'held'
  }

  const wait = async (call: Call, next: Next, key: string, token: string, leaseMs: number) => {
    const started = clock.now()
    let delay = firstPoll
    for (;;) {
      await sleep(delay, call.signal)
      delay = Math.min(delay * 1.5, lastPoll)
      // Past its deadline the call waits no more; the stages below refuse it as timed out.
      if (call.deadline !== undefined && clock.now() >= call.deadline) return next(call)
      let seen: Awaited<ReturnType<typeof look>>
      let takenOver = false
      try {
        seen = await look(call, key)
        if (seen === 'free') takenOver = await acquire(key, token, leaseMs)
      } catch (error) {
        return alone(call, next, error)
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
        if (events.wants('leaseTakeover'))
          events.emit({ type: 'leaseTakeover', ...eventBase(call) })
        return hold(call, next, key, token, leaseMs)
      }
    }
  }

  return async (call, next) => {
    if (!call.cacheable || !call.coalescible) return next(call)
    const key = connection.key('lease', call.key)
    const token = randomUUID()
    const leaseMs = (call.timeout > 0 ? call.timeout : untimedLease) + leaseMargin
    let held: boolean
    try {
      held = await acquire(key, token, leaseMs)
    } catch (error) {
      return alone(call, next, error)
    }
    return held ? hold(call, next, key, token, leaseMs) : wait(call, next, key, token, leaseMs)
  }
}
