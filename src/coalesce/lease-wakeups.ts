import { nap, systemTimers, type Timers } from '../core/clock.js'
import type { RedisConnection } from '../redis/connection.js'
import { RedisNotifications } from '../redis/notifications.js'
import { isCluster } from '../redis/redis-client.js'

/**
 * One waiter's interest in a lease: it is woken when the lease's holder says it is done. A wake
 * that comes while the waiter is busy looking is kept for its next `nap`, so none is lost.
 */
export interface LeaseWatch {
  /**
   * Sleeps `ms`, or less when woken; resolves true when woken. Rejects with the signal's reason
   * on its abort.
   */
  nap(ms: number, signal: AbortSignal | undefined): Promise<boolean>
  /** Ends the watch; it is woken no more. */
  leave(): void
}

/**
 * What wakes the waiters of this process. A holder ends its lease with a script that also
 * publishes the lease's key on `<namespace>:lease:done` (stored, marked done, released,
 * dropped as an orphan or on close); one subscriber per instance hears it and wakes every
 * watch on that key. While it is `live`, its waiters poll only as a safety net. When no
 * message can come (a cluster, a subscriber not yet subscribed, down or refused), nothing is
 * worse than without: the waiters poll quickly, as they did before, and each gap (the
 * subscription made, or lost and made again) wakes them all to look, since messages may have
 * been lost in it.
 *
 * A watch is taken before the `SET NX` that finds the lease held: any release that follows it
 * publishes after the subscription was in place, so its message reaches the watch.
 */
export class LeaseWakeups {
  /** The channel holders publish on; empty when nobody could hear it (a cluster). */
  readonly channel: string
  readonly #watches = new Map<string, Set<Watch>>()
  readonly #notifications: RedisNotifications | undefined
  readonly #timers: Timers

  constructor(connection: RedisConnection, subscribe = true, timers: Timers = systemTimers) {
    this.#timers = timers
    const channel = connection.key('lease', 'done')
    const handlers = { message: (key: string) => this.#wake(key), gap: () => this.#wakeAll() }
    this.#notifications = subscribe
      ? RedisNotifications.for(connection, channel, handlers)
      : undefined
    // On a cluster no instance subscribes, and a PUBLISH (sent to every node) would be wasted.
    this.channel = isCluster(connection.client) ? '' : channel
  }

  /**
   * True while the holders' messages reach this process: its waiters need poll only as a
   * safety net. False on a cluster, without a subscriber, or while it is down.
   */
  get live(): boolean {
    return this.#notifications?.live ?? false
  }

  /** Starts watching the lease `key`: before the `SET NX` that may find it held. */
  watch(key: string): LeaseWatch {
    const watch = new Watch(this.#timers, () => {
      const set = this.#watches.get(key)
      set?.delete(watch)
      if (set?.size === 0) this.#watches.delete(key)
    })
    const set = this.#watches.get(key) ?? new Set()
    set.add(watch)
    this.#watches.set(key, set)
    return watch
  }

  /** Drops the subscriber; waiters still waiting go on polling. */
  close(): Promise<void> {
    return this.#notifications?.close() ?? Promise.resolve()
  }

  #wake(key: string): void {
    for (const watch of this.#watches.get(key) ?? []) watch.wake()
  }

  #wakeAll(): void {
    for (const set of this.#watches.values()) for (const watch of set) watch.wake()
  }
}

class Watch implements LeaseWatch {
  readonly #timers: Timers
  readonly #leave: () => void
  readonly #napping = new Set<() => void>()
  #pending = false

  constructor(timers: Timers, leave: () => void) {
    this.#timers = timers
    this.#leave = leave
  }

  wake(): void {
    if (this.#napping.size === 0) this.#pending = true
    for (const wake of this.#napping) wake()
  }

  nap(ms: number, signal: AbortSignal | undefined): Promise<boolean> {
    if (this.#pending && signal?.aborted !== true) {
      this.#pending = false
      return Promise.resolve(true)
    }
    return nap(ms, this.#napping, signal, this.#timers)
  }

  leave(): void {
    this.#leave()
  }
}
