import { randomUUID } from 'node:crypto'
import type { CacheEntries } from '../cache/entries.js'
import type { Call } from '../core/call.js'
import { sleep } from '../core/clock.js'
import type { StageContext } from '../core/context.js'
import { eventBase, reportFallback } from '../core/context.js'
import type { Outcome } from '../core/outcome.js'
import type { Next, Stage } from '../core/stage.js'
import { maxTimerMs } from '../core/validate.js'
import type { RedisConnection } from '../redis/connection.js'
import { isRedisUnavailable } from '../redis/redis-client.js'
import { RedisScript } from '../redis/scripts.js'
import { LeaseOrphans } from './lease-orphans.js'

/** Fewest ms a lease lasts unrenewed. */
const minLeaseMs = 3_000
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

/** A lease this process holds, renewed until it ends. */
interface Held {
  readonly key: string
  readonly token: string
  readonly renewal: NodeJS.Timeout
}

/**
 * Coalescing across processes, in Redis mode. Sits below the in-process single flight, so one
 * process makes at most one lease attempt per key, and applies to calls both cacheable and
 * coalescible (background refreshes included).
 *
 * The first process to `SET lease NX PX` holds the lease and goes upstream; it stores the entry,
 * then releases the lease with a token check (a late holder never ends another's lease). The
 * lease is short (`leaseLength`) and renewed while the call runs, so retries do not lose it and
 * a holder that died holds nobody for long. The others poll the lease and the cache with backoff
 * until the entry appears. When the lease ends with no entry (its holder died, or was aborted),
 * one waiter takes it over. When the holder got nothing it may store (a 500, `no-store`, a
 * `storable` hook that refused or threw), it leaves a short "done" mark and the waiters go
 * upstream themselves rather than wait. Waiters stop at their own signal and deadline.
 *
 * When Redis fails, the call goes on alone: coalesced in process only, counted in
 * `redisFallbacks`, reported as a `redisFallback` event. A lease command that failed on our side
 * may still land later; such leases are deleted once Redis answers again (`LeaseOrphans`).
 */
export function createLeaseStage(
  ctx: StageContext,
  connection: RedisConnection,
  entries: CacheEntries,
): LeaseStage {
  const { counters, events, clock } = ctx
  const leaseMs = leaseLength(connection.timeout)
  const drop = (key: string, token: string) => release.run(connection, [key], [token, '', ''])
  const orphans = new LeaseOrphans(drop)
  const holding = new Set<Held>()
  let closed = false

  const acquire = async (key: string, token: string): Promise<boolean> => {
    let reply: unknown
    try {
      reply = await connection.command(['SET', key, token, 'NX', 'PX', String(leaseMs)], key)
    } catch (error) {
      if (isRedisUnavailable(error)) orphans.add(key, token)
      throw error
    }
    orphans.answered()
    return reply === 'OK'
  }

  const alone = (call: Call, next: Next, error: unknown): Promise<Outcome> => {
    reportFallback(ctx, call, 'lease', error)
    return next(call)
  }

  const take = (key: string, token: string): Held => {
    const renewal = setInterval(() => {
      renew.run<number>(connection, [key], [token, String(leaseMs)]).then(
        (kept) => {
          orphans.answered()
          // Taken over after it ran out: renewing it any longer would change nothing.
          if (kept !== 1) clearInterval(renewal)
        },
        // A renewal that fails leaves the lease to run out: a waiter then takes over.
        () => {},
      )
    }, leaseMs / 3)
    // The call the lease covers keeps the process alive if anything should.
    renewal.unref()
    const lease: Held = { key, token, renewal }
    holding.add(lease)
    return lease
  }

  const end = async (lease: Held, mark: string): Promise<void> => {
    // A lease that close() ended was released then, while the connection was still open.
    if (!holding.delete(lease)) return
    clearInterval(lease.renewal)
    try {
      await release.run(connection, [lease.key], [lease.token, mark, String(doneMs)])
      orphans.answered()
    } catch (error) {
      if (isRedisUnavailable(error)) orphans.add(lease.key, lease.token)
    }
  }

  const hold = async (call: Call, next: Next, key: string, token: string): Promise<Outcome> => {
    if (closed) {
      // Acquired while the instance closed: nothing may renew it now, so it goes at once.
      await drop(key, token).catch(() => {})
      return next(call)
    }
    const lease = take(key, token)
    // Until the outcome is stored, the waiters had better go upstream themselves.
    let mark = done
    try {
      const outcome = await next(call)
      if (await entries.save(call, outcome)) mark = ''
      return outcome
    } catch (error) {
      // Aborted by its own callers, the call says nothing of the upstream: one waiter retries.
      if (call.signal?.aborted === true) mark = ''
      throw error
    } finally {
      await end(lease, mark)
    }
  }

  /**
   * One look at the lease and the cache: the outcome another process stored, or what became of
   * the lease. The lease is read first: its holder stores before it releases, so a lease seen
   * gone means the entry, if any, is there to be read next.
   */
  const look = async (call: Call, key: string): Promise<Outcome | 'done' | 'free' | 'held'> => {
    const holder = await connection.command<string | null>(['GET', key], key)
    orphans.answered()
    const outcome = await entries.fresh(call)
    if (outcome !== undefined) return outcome
    if (holder === done) return 'done'
    return holder === null ? 'free' : 'held'
  }

  const wait = async (call: Call, next: Next, key: string, token: string) => {
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
        if (seen === 'free') takenOver = await acquire(key, token)
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
        return hold(call, next, key, token)
      }
    }
  }

  const stage: Stage = async (call, next) => {
    if (!call.cacheable || !call.coalescible) return next(call)
    const key = connection.key('lease', call.key)
    const token = randomUUID()
    let held: boolean
    try {
      held = await acquire(key, token)
    } catch (error) {
      return alone(call, next, error)
    }
    return held ? hold(call, next, key, token) : wait(call, next, key, token)
  }

  return {
    stage,
    async close() {
      closed = true
      const ending = [...holding].map((lease) => {
        clearInterval(lease.renewal)
        // Deleted, not marked: the entry will not be stored now, and one waiter may go at once.
        return drop(lease.key, lease.token)
      })
      holding.clear()
      await Promise.allSettled([...ending, orphans.close()])
    },
  }
}
