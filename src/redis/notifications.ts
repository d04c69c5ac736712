import { connectAttempt } from './connect-attempt.js'
import type { RedisConnection } from './connection.js'
import { isCluster, type RedisClientLike } from './redis-client.js'
import { afterReads } from './timed.js'

/** ms a TCP connect of the subscriber may take, as for the connection's own. */
const connectTimeout = 1_000
/** Bounds of the delay between reconnects, ms: doubling from the first to the last. */
const reconnectFirst = 100
const reconnectLast = 2_000

/** What the subscriber is of a node-redis client: its own client in subscribe mode. */
interface SubscriberLike extends RedisClientLike {
  subscribe(channel: string, listener: (message: string) => void): Promise<void>
}

/** A node-redis client that can make another like itself (`createClient`'s clients can). */
interface Duplicable {
  readonly options?: { readonly socket?: object }
  duplicate(overrides: object): SubscriberLike
}

const canDuplicate = (client: unknown): client is Duplicable =>
  typeof (client as Partial<Duplicable>).duplicate === 'function'

/** What a `RedisNotifications` tells its owner. */
export interface NotificationHandlers {
  /** A message arrived on the channel. */
  readonly message: (message: string) => void
  /**
   * Messages may have been lost: the subscriber lost its connection (those published until it
   * is subscribed again are), or it has just subscribed (those published before were).
   */
  readonly gap: () => void
}

/**
 * Messages of one Redis channel, on a subscriber connection of their own: node-redis needs a
 * client in subscribe mode apart from the one that sends commands. The subscriber is a copy of
 * the instance's client (same server, credentials and TLS) that breakwater opens and closes,
 * whoever made the original, with the same bounds as the connection: no offline queue, a
 * bounded connect and handshake, reconnects with jittered backoff on our own timer (which
 * `close()` can cancel), the subscription renewed by node-redis on each reconnect.
 *
 * Nothing depends on it being up: its owner must work without any message (a subscriber that
 * is down, or a message lost in a gap), and only goes faster with them. A cluster client gets
 * none (`for` returns undefined): PUBLISH reaches every node, but the subscriber would have to
 * follow the cluster's topology; its waiters poll.
 *
 * @example
 * const done = RedisNotifications.for(connection, connection.key('lease', 'done'), handlers)
 * await done?.close()
 */
export class RedisNotifications {
  readonly #connection: RedisConnection
  readonly #channel: string
  readonly #handlers: NotificationHandlers
  /** The copy, once made: a connection opened from a URL makes its own client late. */
  #client: SubscriberLike | undefined
  #stopWaiting = () => {}
  #connecting: Promise<void> | undefined
  #dropHandshake: (() => void) | undefined
  #reconnectTimer: NodeJS.Timeout | undefined
  #reconnects = 0
  #subscribed = false
  /** The server refused SUBSCRIBE: asking again would change nothing. */
  #refused = false
  #closed = false

  /** Subscribes to `channel` on a copy of the connection's client; undefined on a cluster. */
  static for(
    connection: RedisConnection,
    channel: string,
    handlers: NotificationHandlers,
  ): RedisNotifications | undefined {
    if (isCluster(connection.client)) return undefined
    return new RedisNotifications(connection, channel, handlers)
  }

  private constructor(
    connection: RedisConnection,
    channel: string,
    handlers: NotificationHandlers,
  ) {
    this.#connection = connection
    this.#channel = channel
    this.#handlers = handlers
    const original = connection.client
    if (canDuplicate(original)) {
      this.#open(original)
      return
    }
    // node-redis loads at the connection's first connect, and its client is made then: the
    // copy follows once that client is ready. One that cannot be copied gets no subscriber.
    const onReady = () => {
      this.#stopWaiting()
      const made = connection.client
      if (!this.#closed && canDuplicate(made)) this.#open(made)
    }
    original.on('ready', onReady)
    this.#stopWaiting = () => original.off('ready', onReady)
  }

  #open(original: Duplicable): void {
    const client = original.duplicate({
      disableOfflineQueue: true,
      // A second client-side cache would only track keys the subscriber never reads.
      clientSideCache: undefined,
      socket: { ...original.options?.socket, connectTimeout, reconnectStrategy: false },
    })
    this.#client = client
    // node-redis emits 'error' for every failed connect and every dropped socket; without a
    // listener the EventEmitter would throw it at the process.
    client.on('error', this.#onError)
    this.#connect(client)
  }

  /**
   * True while messages reach the owner: subscribed, on a connection that is up. A message
   * published then is lost only when the connection drops (a `gap`), or in the moment after
   * it came back, before node-redis has renewed the subscription.
   */
  get live(): boolean {
    return this.#subscribed && !this.#closed && this.#client?.isReady === true
  }

  /** Stops reconnecting and drops the subscriber; bounded, whatever its socket is doing. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.#stopWaiting()
    clearTimeout(this.#reconnectTimer)
    this.#dropHandshake?.()
    // A TCP connect under way is dropped as soon as it lands, within `connectTimeout`.
    await this.#connecting
    this.#destroy()
    this.#client?.off('error', this.#onError)
  }

  // One function for every SUBSCRIBE: node-redis keeps one listener per function, so that a
  // first attempt that timed out, and was kept for its reconnects, is not called twice.
  #listener = (message: string): void => this.#handlers.message(message)

  #onError = (): void => {
    this.#handlers.gap()
    if (this.#client?.isOpen === false) this.#scheduleReconnect()
  }

  #connect(client: SubscriberLike): void {
    let connected = false
    this.#connecting = connectAttempt({
      client,
      owned: true,
      timeout: this.#connection.timeout,
      closed: () => this.#closed,
      destroy: () => this.#destroy(),
      onHandshake: (drop) => {
        this.#dropHandshake = drop
      },
      onConnected: () => {
        connected = true
      },
      onEnded: () => {},
    }).then(async () => {
      // node-redis subscribes again by itself on every reconnect; only the first is ours.
      if (connected && !this.#closed && !this.#subscribed) await this.#subscribe(client)
      this.#connecting = undefined
      if (this.#closed || this.#refused) return this.#destroy()
      if (!client.isOpen) return this.#scheduleReconnect()
      this.#reconnects = 0
      // What was published while nobody listened is lost: the owner looks again now.
      this.#handlers.gap()
    })
  }

  /**
   * SUBSCRIBE within the timeout. A server that does not answer loses the socket and is tried
   * again after a backoff; one that refuses (an ACL without the channel, a proxy without
   * pub/sub) is not asked again: its owner polls.
   */
  async #subscribe(client: SubscriberLike): Promise<void> {
    let cancelTimer = () => {}
    const late = new Promise<'late'>((resolve) => {
      cancelTimer = afterReads(this.#connection.timeout, () => resolve('late'))
    })
    const subscribing = client.subscribe(this.#channel, this.#listener).then(
      () => 'ok' as const,
      // Still ready after a rejection: the server answered, with an error.
      () => (client.isReady ? ('refused' as const) : ('failed' as const)),
    )
    const result = await Promise.race([subscribing, late])
    cancelTimer()
    if (result === 'ok') this.#subscribed = true
    if (result === 'refused') this.#refused = true
    if (result !== 'ok') this.#destroy()
  }

  #destroy(): void {
    if (this.#client?.isOpen === true) this.#client.destroy()
  }

  #scheduleReconnect(): void {
    if (this.#closed || this.#refused || this.#connecting || this.#reconnectTimer) return
    const backoff = Math.min(reconnectFirst * 2 ** this.#reconnects, reconnectLast)
    this.#reconnects++
    // Jitter keeps a fleet that lost Redis together from reconnecting in step.
    const delay = backoff / 2 + Math.random() * (backoff / 2)
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = undefined
      if (!this.#closed && this.#client !== undefined) this.#connect(this.#client)
    }, delay)
    // Waking waiters sooner is no reason to keep a process alive.
    this.#reconnectTimer.unref()
  }
}
