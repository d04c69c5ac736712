import { probeAfter } from '../redis/connection.js'
import { isRedisUnavailable } from '../redis/redis-client.js'

/** Orphans kept for deletion; beyond them, the oldest are left to run out by their `PX`. */
const maxOrphans = 1_000
/**
 * ms past the connection's next probe being due at which a retry runs: the breaker reads the
 * wall clock and timers the monotonic one, and a retry refused by a millisecond would wait a
 * whole second more.
 */
const probeMargin = 10

/** Deletes the lease under `key` if it still holds `token`; rejects when Redis failed it. */
export type DropLease = (key: string, token: string) => Promise<unknown>

/**
 * Leases this process may hold without knowing it. A `SET NX PX` or a release that failed on
 * our side (it timed out on a paused or sleeping Redis) may still be applied once Redis goes
 * on, and the lease it leaves has nobody to renew or release it: every other process would wait
 * for it to run out. Each is kept by its token and deleted, token-checked, as soon as Redis
 * answers again: after the next lease command that succeeds, or by a retry of its own when the
 * connection's next probe is due, so that a process that makes no more calls cleans up too. A
 * connection applies its commands in order, so the delete lands after the command it undoes.
 *
 * @example
 * const orphans = new LeaseOrphans((key, token) => release.run(connection, [key], [token]))
 * orphans.add(key, token) // the SET timed out
 */
export class LeaseOrphans {
  readonly #drop: DropLease
  // [key, token], the oldest first.
  readonly #orphans: [string, string][] = []
  #retry: NodeJS.Timeout | undefined
  #closed = false

  constructor(drop: DropLease) {
    this.#drop = drop
  }

  /** Keeps a lease that a command which failed on our side may have left in Redis. */
  add(key: string, token: string): void {
    if (this.#closed) return
    this.#orphans.push([key, token])
    if (this.#orphans.length > maxOrphans) this.#orphans.shift()
    this.#schedule()
  }

  /** Redis answered a lease command: every orphan can be deleted now. */
  answered(): void {
    if (this.#orphans.length === 0) return
    clearTimeout(this.#retry)
    this.#retry = undefined
    for (const [key, token] of this.#orphans.splice(0)) void this.#delete(key, token)
  }

  /** Stops the retries, after one last try at each orphan while the connection is still open. */
  async close(): Promise<void> {
    this.#closed = true
    clearTimeout(this.#retry)
    this.#retry = undefined
    const last = this.#orphans.splice(0).map(([key, token]) => this.#drop(key, token))
    await Promise.allSettled(last)
  }

  /** Resolves true once Redis answered the delete. */
  async #delete(key: string, token: string): Promise<boolean> {
    try {
      await this.#drop(key, token)
      return true
    } catch (error) {
      // A reply Redis sent will not change by asking again; only a Redis that failed is retried.
      if (isRedisUnavailable(error)) this.add(key, token)
      return false
    }
  }

  #schedule(): void {
    if (this.#retry !== undefined || this.#closed) return
    // One orphan goes first, as the connection's probe; the others follow once it is answered.
    this.#retry = setTimeout(() => {
      this.#retry = undefined
      const first = this.#orphans.shift()
      if (first === undefined) return
      void this.#delete(...first).then((deleted) => {
        if (deleted) this.answered()
      })
    }, probeAfter + probeMargin)
    // Cleaning up is no reason to keep a process alive: its leases run out by themselves.
    this.#retry.unref()
  }
}
