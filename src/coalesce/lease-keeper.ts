import type { RedisConnection } from '../redis/connection.js'
import { isRedisUnavailable } from '../redis/redis-client.js'
import { RedisScript } from '../redis/scripts.js'
import { LeaseOrphans } from './lease-orphans.js'

/** What a lease holds once its holder finished with nothing to share; tokens are UUIDs. */
export const doneMark = 'done'
/** ms a "done, nothing stored" mark stays: every waiter polls within it. */
const doneMs = 1_000

/**
 * Ends a lease only if it is still ours: deletes it (`ARGV[2]` empty) or leaves the mark, then
 * publishes its key on `ARGV[4]` (unless empty) for the waiters, in the same step, so that no
 * waiter hears of a release that has not happened yet. `pcall`: a refused PUBLISH (an ACL
 * without channels) must not fail a release that already happened.
 */
const release = new RedisScript(`if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[2] == '' then redis.call('DEL', KEYS[1])
else redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) end
if ARGV[4] ~= '' then redis.pcall('PUBLISH', ARGV[4], KEYS[1]) end
return 1`)

/** Extends a lease only if it is still ours. */
const renew = new RedisScript(`if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
return redis.call('PEXPIRE', KEYS[1], ARGV[2])`)

/** A lease this process holds, renewed until it ends. */
export interface Held {
  readonly key: string
  readonly token: string
  readonly renewal: NodeJS.Timeout
}

/**
 * The leases of one instance in Redis: taking one (`SET NX PX`), renewing it every third of
 * its length while held, ending it token-checked, and on close ending those still held. A
 * command that failed on our side may still land: the lease it may leave is an orphan, deleted
 * once Redis answers again (`LeaseOrphans`). Every end publishes on `channel`.
 */
export class LeaseKeeper {
  readonly #connection: RedisConnection
  readonly #leaseMs: number
  readonly #channel: string
  readonly #orphans: LeaseOrphans
  readonly #holding = new Set<Held>()

  constructor(connection: RedisConnection, leaseMs: number, channel: string) {
    this.#connection = connection
    this.#leaseMs = leaseMs
    this.#channel = channel
    this.#orphans = new LeaseOrphans((key, token) => this.drop(key, token))
  }

  /** `SET NX PX`: true when the lease is ours now. Rejects when Redis failed it. */
  async acquire(key: string, token: string): Promise<boolean> {
    let reply: unknown
    try {
      const args = ['SET', key, token, 'NX', 'PX', String(this.#leaseMs)]
      reply = await this.#connection.command(args, key)
    } catch (error) {
      if (isRedisUnavailable(error)) this.#orphans.add(key, token)
      throw error
    }
    this.#orphans.answered()
    return reply === 'OK'
  }

  /** Redis answered a command about leases: orphans can be deleted now. */
  answered(): void {
    this.#orphans.answered()
  }

  /** Starts renewing a lease just acquired. */
  take(key: string, token: string): Held {
    const leaseMs = String(this.#leaseMs)
    const renewal = setInterval(() => {
      renew.run<number>(this.#connection, [key], [token, leaseMs]).then(
        (kept) => {
          this.#orphans.answered()
          // Taken over after it ran out: renewing it any longer would change nothing.
          if (kept !== 1) clearInterval(renewal)
        },
        // A renewal that fails leaves the lease to run out: a waiter then takes over.
        () => {},
      )
    }, this.#leaseMs / 3)
    // The call the lease covers keeps the process alive if anything should.
    renewal.unref()
    const lease: Held = { key, token, renewal }
    this.#holding.add(lease)
    return lease
  }

  /** Ends a lease held: deleted (`mark` empty) or marked done for `doneMs`. */
  async end(lease: Held, mark: string): Promise<void> {
    // A lease that close() ended was released then, while the connection was still open.
    if (!this.#holding.delete(lease)) return
    clearInterval(lease.renewal)
    const args = [lease.token, mark, String(doneMs), this.#channel]
    try {
      await release.run(this.#connection, [lease.key], args)
      this.#orphans.answered()
    } catch (error) {
      if (isRedisUnavailable(error)) this.#orphans.add(lease.key, lease.token)
    }
  }

  /** Deletes the lease if it still holds `token`; rejects when Redis failed it. */
  drop(key: string, token: string): Promise<unknown> {
    return release.run(this.#connection, [key], [token, '', '', this.#channel])
  }

  /** Stops every renewal and deletes the leases still held, and the orphans. */
  async close(): Promise<void> {
    const ending = [...this.#holding].map((lease) => {
      clearInterval(lease.renewal)
      // Deleted, not marked: the entry will not be stored now, and one waiter may go at once.
      return this.drop(lease.key, lease.token)
    })
    this.#holding.clear()
    await Promise.allSettled([...ending, this.#orphans.close()])
  }
}
