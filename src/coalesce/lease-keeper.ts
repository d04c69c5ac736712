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

/** What a `claim` found. */
export interface Claim {
  readonly held: boolean
  /** ms the lease has left, as Redis' PTTL said; Infinity when it has no expiry. */
  readonly heldFor: number
}

/** ms left of a PTTL reply: negative for a key without expiry (not one of ours) or just gone. */
export const leftOf = (pttl: unknown): number =>
  typeof pttl === 'number' && pttl >= 0 ? pttl : Number.POSITIVE_INFINITY

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
  /** Releases sent and not answered yet: `close` waits for them. */
  readonly #ending = new Set<Promise<void>>()

  constructor(connection: RedisConnection, leaseMs: number, channel: string) {
    this.#connection = connection
    this.#leaseMs = leaseMs
    this.#channel = channel
    this.#orphans = new LeaseOrphans((key, token) => this.drop(key, token))
  }

  /**
   * `SET NX PX`, and in the same round trip the ms the lease has left: `held` when it is ours
   * now, else how long its holder has it for unless renewed (Infinity when unknown), which
   * bounds how long a waiter may wait before it looks. Rejects when Redis failed it.
   */
  async claim(key: string, token: string): Promise<Claim> {
    let replies: [unknown, unknown]
    try {
      const set = ['SET', key, token, 'NX', 'PX', String(this.#leaseMs)]
      replies = await this.#connection.run((send) =>
        Promise.all([send(set, key), send<number>(['PTTL', key], key)]),
      )
    } catch (error) {
      if (isRedisUnavailable(error)) this.#orphans.add(key, token)
      throw error
    }
    this.#orphans.answered()
    const [reply, left] = replies
    return { held: reply === 'OK', heldFor: leftOf(left) }
  }

  /** `SET NX PX`: true when the lease is ours now. Rejects when Redis failed it. */
  async acquire(key: string, token: string): Promise<boolean> {
    return (await this.claim(key, token)).held
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

  /**
   * Ends a lease held: deleted (`mark` empty) or marked done for `doneMs`. Never rejects, and
   * need not be awaited: `close` waits for the releases still under way.
   */
  end(lease: Held, mark: string): Promise<void> {
    // A lease that close() ended was released then, while the connection was still open.
    if (!this.#holding.delete(lease)) return Promise.resolve()
    clearInterval(lease.renewal)
    const ending = this.#release(lease, mark)
    this.#ending.add(ending)
    ending.then(() => this.#ending.delete(ending))
    return ending
  }

  async #release(lease: Held, mark: string): Promise<void> {
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
    await Promise.allSettled([...ending, ...this.#ending, this.#orphans.close()])
  }
}
