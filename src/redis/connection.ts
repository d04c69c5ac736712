import type { StageContext } from '../core/context.js'
import { connectAttempt } from './connect-attempt.js'
import type { ResolvedRedis } from './options.js'
import { isErrorReply, requirePeer } from './peer.js'
import {
  isCluster,
  isRedisUnavailable,
  type RedisClientLike,
  type RedisLike,
  RedisUnavailableError,
  type Send,
} from './redis-client.js'
import { RedisHealth } from './redis-health.js'
import { timed } from './timed.js'

// The stores' fallbacks time their retries by it.
export { probeAfter } from './redis-health.js'

/** ms a TCP connect to Redis may take. */
const connectTimeout = 1_000
/** Bounds of the delay between reconnects, ms: doubling from the first to the last. */
const reconnectFirst = 100
const reconnectLast = 2_000

/** Replies of a Redis that is up but cannot serve yet: they count as failures, not answers. */
const unhealthyReply = /^(LOADING|BUSY|MASTERDOWN|CLUSTERDOWN|TRYAGAIN)\b/

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error))

/**
 * The one Redis connection of an instance, shared by every part that keeps state in Redis.
 *
 * Nothing may hang a call on Redis: every operation goes through `run`, which gives it
 * `redis.timeout` ms and sits behind a breaker of its own, so that once Redis is marked down an
 * operation fails at once, costing nothing, and one operation a second probes whether it is
 * back. A connection opened from a URL has the offline queue off (a command sent while
 * disconnected fails at once rather than waiting) and reconnects in the background with
 * backoff. It does so on its own timer rather than with node-redis' `reconnectStrategy`, whose
 * pending delay `close()` could not cancel. Each connect has `connectTimeout` for TCP and then
 * `redis.timeout` for its handshake, so that a server that accepts and never answers holds
 * nothing: `close()` ends in bounded time whatever the socket is doing. A client the user
 * passed is connected when it is not open yet, keeps its own reconnection policy, and is never
 * closed here.
 *
 * @example
 * const count = await connection.run((send) => send<number>(['INCR', key], key))
 */
export class RedisConnection {
  /** ms each operation may take. */
  readonly timeout: number
  /** Prefix of every key; see `key`. */
  readonly namespace: string
  readonly #client: RedisLike
  readonly #owned: boolean
  readonly #ctx: StageContext
  readonly #health: RedisHealth
  /**
   * Until a client that was not ready at construction becomes ready or first fails, operations
   * wait for it (within their timeout) rather than fail: a process's first calls would
   * otherwise all miss the shared state. `#started` ends the wait.
   */
  #starting: Promise<void> | undefined
  #started = () => {}
  #connecting: Promise<void> | undefined
  /** Set while a connected socket awaits the replies of its handshake: cuts it short. */
  #dropHandshake: (() => void) | undefined
  /** Operations sent and not settled yet, timed out or not: replies `close` may wait for. */
  readonly #sent = new Set<Promise<unknown>>()
  #reconnectTimer: NodeJS.Timeout | undefined
  #reconnects = 0
  #closed = false

  constructor(options: ResolvedRedis, namespace: string, ctx: StageContext) {
    this.timeout = options.timeout
    this.namespace = namespace
    this.#ctx = ctx
    this.#health = new RedisHealth(ctx)
    const { target } = options
    this.#owned = 'url' in target
    this.#client =
      'client' in target
        ? target.client
        : // Required only now: an app without Redis never loads it (it takes about 100 ms).
          (requirePeer<typeof import('@redis/client')>('@redis/client').createClient({
            url: target.url,
            disableOfflineQueue: true,
            socket: { connectTimeout, reconnectStrategy: false },
          }) as unknown as RedisClientLike)
    // node-redis emits 'error' for every failed connect; an EventEmitter without a listener
    // would throw it at the process. Failures reach callers through `run`.
    this.#client.on('error', this.#onError)
    if (!this.#ready()) this.#awaitStart()
    if (!this.#client.isOpen) this.#connect()
  }

  /** The node-redis client, for adapters that take one (`@keyv/redis`); use it through `run`. */
  get client(): RedisLike {
    return this.#client
  }

  /** True while Redis is marked down: operations fail at once, apart from a probe a second. */
  get down(): boolean {
    return this.#health.down
  }

  /**
   * A key under the namespace: `key('lease', id)` is `'<namespace>:lease:<id>'`. Keys that one
   * script touches together must share a hash tag on Redis Cluster: wrap the common part in
   * braces, `key('bucket', `{${name}}`, 'tokens')`.
   */
  key(...parts: string[]): string {
    return `${this.namespace}:${parts.join(':')}`
  }

  /**
   * Runs one operation (one or more commands sent with `send`) within `timeout` ms and behind
   * the breaker. Rejects with `RedisUnavailableError` when Redis failed it, did not answer in
   * time, or is marked down; with the `ErrorReply` when Redis answered with an error. An
   * operation that ran out of time may still complete on the server later, so it must be safe
   * to abandon (a lease that expires, a script that is all or nothing).
   */
  async run<T>(op: (send: Send) => Promise<T>): Promise<T> {
    if (this.#closed) throw new RedisUnavailableError('the Redis connection is closed')
    const { counters } = this.#ctx
    const admission = this.#health.admit()
    if (!admission.allowed) {
      counters.redisErrors++
      throw new RedisUnavailableError(
        `Redis is marked down; the next probe in ${admission.retryAfter} ms`,
      )
    }
    try {
      const value = await this.#timed(op)
      this.#health.answered(admission.probe)
      return value
    } catch (error) {
      if (isErrorReply(error) && !unhealthyReply.test(error.message)) {
        this.#health.answered(admission.probe)
        throw error
      }
      counters.redisErrors++
      this.#health.failed(error, admission.probe)
      if (isRedisUnavailable(error)) throw error
      throw new RedisUnavailableError(`Redis failed: ${messageOf(error)}`, { cause: error })
    }
  }

  /** One raw command through `run`. */
  command<T = unknown>(args: readonly string[], firstKey?: string): Promise<T> {
    return this.run((send) => send<T>(args, firstKey))
  }

  /**
   * Stops reconnecting and closes the connection if it was opened here, waiting at most
   * `timeout` ms for replies still due, then destroying the socket whatever state it is in. A
   * client the user passed is left open.
   */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.#started()
    clearTimeout(this.#reconnectTimer)
    if (!this.#owned) {
      this.#client.off('error', this.#onError)
      return
    }
    // A handshake under way will not be used now. A TCP connect still under way is out of
    // destroy()'s reach: `connectAttempt` cuts it as soon as it lands, within `connectTimeout`.
    this.#dropHandshake?.()
    await this.#connecting
    if (this.#sent.size > 0) {
      let timer: NodeJS.Timeout | undefined
      const late = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, this.timeout)
      })
      await Promise.race([Promise.allSettled([...this.#sent]), late])
      clearTimeout(timer)
    }
    // Not node-redis' close(): it waits for every reply due, for ever if the server is silent,
    // and leaves destroy() no socket to reach once it has begun.
    this.#destroy()
  }

  #send: Send = (args, firstKey) => {
    const client = this.#client
    if (isCluster(client)) return client.sendCommand(firstKey, false, [...args])
    return client.sendCommand(args)
  }

  /**
   * A client that queues commands while offline would hold them past our timeout and send them
   * later (a user's client may), and `@keyv/redis` reconnects, then destroys, a client it finds
   * closed: so no operation starts on a client that is not ready.
   */
  #ready(): boolean {
    const client = this.#client
    return isCluster(client) ? client.isOpen : client.isReady
  }

  #timed<T>(op: (send: Send) => Promise<T>): Promise<T> {
    return timed(this.timeout, this.#starting ?? Promise.resolve(), () => {
      if (!this.#ready()) throw new RedisUnavailableError('Redis is not connected')
      const sent = op(this.#send)
      this.#sent.add(sent)
      const settled = () => this.#sent.delete(sent)
      sent.then(settled, settled)
      return sent
    })
  }

  /**
   * Makes operations wait for the client to be ready, connecting or connected by whoever:
   * until node-redis says 'ready' ('connect' for a cluster), or 'error'.
   */
  #awaitStart(): void {
    const client = this.#client
    const onReady = () => this.#started()
    const event = isCluster(client) ? 'connect' : 'ready'
    this.#starting = new Promise((resolve) => {
      this.#started = () => {
        this.#started = () => {}
        this.#starting = undefined
        client.off(event, onReady)
        resolve()
      }
    })
    client.on(event, onReady)
  }

  #onError = (): void => {
    // A first connect that failed once is not worth waiting for: a user's client may go on
    // retrying it for long, and operations should fail over at once rather than time out.
    this.#started()
    // With no reconnect strategy, a dropped connection closes the client; ours is reopened.
    if (this.#owned && !this.#client.isOpen) this.#scheduleReconnect()
  }

  #connect(): void {
    const client = this.#client
    this.#connecting = connectAttempt({
      client,
      owned: this.#owned,
      timeout: this.timeout,
      closed: () => this.#closed,
      destroy: () => this.#destroy(),
      onHandshake: (drop) => {
        this.#dropHandshake = drop
      },
      onConnected: () => {
        this.#reconnects = 0
      },
      onEnded: () => {
        this.#connecting = undefined
        if (this.#owned && !client.isOpen) this.#scheduleReconnect()
      },
    })
  }

  /** Drops our own client's socket and rejects what is pending on it. */
  #destroy(): void {
    const client = this.#client as RedisClientLike
    if (client.isOpen) client.destroy()
  }

  #scheduleReconnect(): void {
    if (this.#closed || this.#connecting !== undefined || this.#reconnectTimer !== undefined) return
    const backoff = Math.min(reconnectFirst * 2 ** this.#reconnects, reconnectLast)
    this.#reconnects++
    // Jitter keeps a fleet that lost Redis together from reconnecting in step.
    const delay = backoff / 2 + Math.random() * (backoff / 2)
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = undefined
      if (!this.#closed) this.#connect()
    }, delay)
    // Reconnecting alone is no reason to keep a process alive.
    this.#reconnectTimer.unref()
  }
}
