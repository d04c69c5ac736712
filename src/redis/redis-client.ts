/**
 * What breakwater needs of node-redis (`@redis/client` 5), typed by shape so that any client
 * fits (modules, scripts, RESP3), and the error every Redis failure becomes.
 */

/** The events breakwater listens to: 'error', and 'ready' (a client) or 'connect' (a cluster). */
export interface RedisEmitter {
  on(event: 'error' | 'ready' | 'connect', listener: (error?: unknown) => void): unknown
  off(event: 'error' | 'ready' | 'connect', listener: (error?: unknown) => void): unknown
}

/**
 * What breakwater uses of a node-redis client made by `createClient` (`@redis/client` 5).
 * Typed by shape, so that a client built with modules, scripts or RESP3 fits as well.
 */
export interface RedisClientLike extends RedisEmitter {
  readonly isOpen: boolean
  readonly isReady: boolean
  connect(): Promise<unknown>
  sendCommand<T = unknown>(args: readonly string[]): Promise<T>
  close(): Promise<void>
  destroy(): void
}

/** What breakwater uses of a node-redis cluster client made by `createCluster`. */
export interface RedisClusterLike extends RedisEmitter {
  readonly isOpen: boolean
  /** Present on cluster clients only; tells them apart from single-node ones. */
  readonly slots: unknown
  connect(): Promise<unknown>
  sendCommand<T = unknown>(
    firstKey: string | undefined,
    isReadonly: boolean | undefined,
    args: string[],
  ): Promise<T>
}

export type RedisLike = RedisClientLike | RedisClusterLike

/**
 * An operation that Redis did not answer: it failed on the connection, ran past
 * `redis.timeout`, or was not sent because Redis is marked down. Whatever shares state through
 * Redis falls back to its in-process form on this error. A reply Redis did send (an
 * `ErrorReply` such as WRONGTYPE) is passed on as it is instead.
 */
export class RedisUnavailableError extends Error {
  override readonly name = 'RedisUnavailableError'
  readonly code = 'REDIS_UNAVAILABLE'
}

/** True for a `RedisUnavailableError`, even from another copy of breakwater. */
export const isRedisUnavailable = (error: unknown): error is RedisUnavailableError =>
  error instanceof Error && (error as { code?: unknown }).code === 'REDIS_UNAVAILABLE'

/** Sends one raw command; `firstKey` routes it on a cluster (and is ignored otherwise). */
export type Send = <T = unknown>(args: readonly string[], firstKey?: string) => Promise<T>

export const isCluster = (client: RedisLike): client is RedisClusterLike =>
  (client as RedisClusterLike).slots !== undefined
