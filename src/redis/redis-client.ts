/**
 * What breakwater needs of node-redis (`@redis/client` 5), typed by shape so that any client
 * fits (modules, scripts, RESP3), and the error every Redis failure becomes.
 */

import type { RedisUnavailableError } from '../core/errors.js'

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

// The error lives with the others, under `BreakwaterError`; the Redis backends import it here.
export { RedisUnavailableError } from '../core/errors.js'

/**
 * True for a `RedisUnavailableError`, even from another copy of breakwater. Unlike
 * `isRedisUnavailableError` it reads the code alone, without the brand, so that it also knows
 * the error of a copy from before it extended `BreakwaterError`.
 */
export const isRedisUnavailable = (error: unknown): error is RedisUnavailableError =>
  error instanceof Error && (error as { code?: unknown }).code === 'REDIS_UNAVAILABLE'

/** Sends one raw command; `firstKey` routes it on a cluster (and is ignored otherwise). */
export type Send = <T = unknown>(args: readonly string[], firstKey?: string) => Promise<T>

export const isCluster = (client: RedisLike): client is RedisClusterLike =>
  (client as RedisClusterLike).slots !== undefined
