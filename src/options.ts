/**
 * The top of the options: `BreakwaterOptions`, its resolved form and `resolveOptions`, which
 * validates each part with the resolver beside its type (cache-options.ts, retry-options.ts,
 * quota-options.ts, redis/redis-options.ts).
 */

import {
  type BreakerOptions,
  breakerDefaults,
  type ResolvedBreaker,
  resolveBreaker,
} from './breaker/options.js'
import {
  type CacheOptions,
  cacheDefaults,
  type ResolvedCache,
  resolveCache,
} from './cache/options.js'
import {
  type ConcurrencyOptions,
  type ResolvedConcurrency,
  resolveConcurrency,
} from './concurrency/options.js'
import { type Clock, systemClock, systemTimers, type Timers } from './core/clock.js'
import type { BreakwaterEvent } from './core/events.js'
import { boolean, func, isNonEmptyString, object, show, timerMs } from './core/validate.js'
import {
  type IdempotencyOptions,
  type ResolvedIdempotency,
  resolveIdempotency,
} from './idempotency/options.js'
import { type PoolOptions, type ResolvedPool, resolvePool } from './pool/options.js'
import {
  type RateLimitBucketOptions,
  type ResolvedBucket,
  resolveRateLimit,
} from './ratelimit/options.js'
import { type RedisOption, type ResolvedRedis, resolveRedis } from './redis/options.js'
import { assertRedisPeers } from './redis/peer.js'
import {
  type ResolvedRetry,
  type RetryOptions,
  resolveRetry,
  retryDefaults,
} from './retry/options.js'
import { type ResolvedStream, resolveStream, type StreamOptions } from './stream/options.js'

/**
 * Everything `createFetch` and `wrap` accept; every part is optional, `false` turns it off.
 * `streamCommit` and `streamIdleTimeout` are `StreamOptions`'.
 */
export interface BreakwaterOptions extends StreamOptions {
  /** Prefix of every stored key. @default 'bw' */
  namespace?: string
  /** Share cache, coalescing, buckets and records across processes through Redis. @default off */
  redis?: RedisOption | false
  cache?: CacheOptions | false
  /** Concurrent identical calls share one upstream call. @default true */
  coalesce?: boolean
  retry?: RetryOptions | false
  /**
   * ms per attempt, to the body's last byte (an event stream's: to its headers, or with
   * `streamCommit` to its commit); 0 turns it off. @default 30_000
   */
  timeout?: number
  breaker?: BreakerOptions | false
  /** Token buckets every attempt takes from: one, or a list checked and debited together. */
  rateLimit?: RateLimitBucketOptions | readonly RateLimitBucketOptions[] | false
  /** Upstream attempts in flight at once (p-limit). @default unlimited */
  concurrency?: number | ConcurrencyOptions | false
  /** Idempotency keys for non-idempotent methods, and replay of their outcomes. */
  idempotency?: IdempotencyOptions | false
  /** Several targets (keys, deployments, regions, functions) and fallbacks for one endpoint. */
  pool?: PoolOptions | false
  /** Receives every event; see `BreakwaterEvent`. */
  onEvent?: (event: BreakwaterEvent) => void
  /** Time source, for tests of time itself. @default Date.now */
  clock?: Clock
  /**
   * What every wait (backoff, rate-limit turns, slot deadlines, timeouts) is timed with, for
   * tests of time itself; give it with `clock`, moved together. @default the global timers
   */
  timers?: Timers
}

export interface ResolvedOptions {
  readonly namespace: string
  readonly redis: ResolvedRedis | false
  readonly cache: ResolvedCache | false
  readonly coalesce: boolean
  readonly retry: ResolvedRetry | false
  readonly timeout: number
  readonly stream: ResolvedStream | false
  readonly breaker: ResolvedBreaker | false
  readonly rateLimit: readonly ResolvedBucket[]
  readonly concurrency: ResolvedConcurrency | false
  readonly idempotency: ResolvedIdempotency | false
  readonly pool: ResolvedPool | false
  readonly onEvent: ((event: BreakwaterEvent) => void) | undefined
  readonly clock: Clock
  readonly timers: Timers
}

export const defaults = {
  namespace: 'bw',
  cache: cacheDefaults,
  coalesce: true,
  retry: retryDefaults,
  timeout: 30_000,
  breaker: breakerDefaults,
} as const

/** The option names `resolveOptions` knows; front doors add their own. */
export const optionNames = [
  'namespace',
  'redis',
  'cache',
  'coalesce',
  'retry',
  'timeout',
  'streamCommit',
  'streamIdleTimeout',
  'breaker',
  'rateLimit',
  'concurrency',
  'idempotency',
  'pool',
  'onEvent',
  'clock',
  'timers',
] as const

/** Validates every option once, at construction, and fills in the defaults. */
export function resolveOptions(
  value: unknown,
  extraNames: readonly string[] = [],
): ResolvedOptions {
  const o = object<BreakwaterOptions>('options', value ?? {}, [...optionNames, ...extraNames])
  const namespace = o.namespace === undefined ? defaults.namespace : o.namespace
  if (!isNonEmptyString(namespace))
    throw new TypeError(`namespace must be a non-empty string, got ${show(namespace)}`)
  const clock = o.clock ?? systemClock
  if (typeof clock !== 'object' || clock === null || typeof clock.now !== 'function') {
    throw new TypeError(`clock must be an object with now(), got ${show(clock)}`)
  }
  const timers = o.timers ?? systemTimers
  if (
    typeof timers !== 'object' ||
    timers === null ||
    typeof timers.setTimeout !== 'function' ||
    typeof timers.clearTimeout !== 'function'
  ) {
    throw new TypeError(
      `timers must be an object with setTimeout() and clearTimeout(), got ${show(timers)}`,
    )
  }
  const redis = resolveRedis(o.redis)
  const cache = resolveCache(o.cache, redis !== false)
  // The Redis packages are optional peers: a missing one fails here, before anything connects.
  if (redis) assertRedisPeers(redis, cache !== false && cache.store === undefined)
  return {
    namespace,
    redis,
    cache,
    coalesce: boolean('coalesce', o.coalesce, defaults.coalesce),
    retry: resolveRetry(o.retry),
    timeout: timerMs('timeout', o.timeout, defaults.timeout),
    stream: resolveStream(o),
    breaker: resolveBreaker(o.breaker),
    rateLimit: resolveRateLimit(o.rateLimit),
    concurrency: resolveConcurrency(o.concurrency),
    idempotency: resolveIdempotency(o.idempotency),
    pool: resolvePool(o.pool),
    onEvent: func('onEvent', o.onEvent),
    clock,
    timers,
  }
}
