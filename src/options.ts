import type Keyv from 'keyv'
import type { Clock } from './clock.js'
import { systemClock } from './clock.js'
import type { BreakwaterEvent } from './events.js'
import {
  type ConcurrencyOptions,
  type IdempotencyOptions,
  type RateLimitBucketOptions,
  type ResolvedBucket,
  type ResolvedConcurrency,
  type ResolvedIdempotency,
  resolveConcurrency,
  resolveIdempotency,
  resolveRateLimit,
} from './quota-options.js'
import { type RedisOption, type ResolvedRedis, resolveRedis } from './redis/redis-options.js'
import { boolean, func, integer, list, number, object, oneOf, show, timerMs } from './validate.js'

/** What a breaker scope function, a `retryOn` hook and events may know of a call. */
export interface CallInfo {
  /** Upper-case HTTP method; `'CALL'` for a wrapped function. */
  readonly method: string
  /** Absolute URL; `''` for a wrapped function. */
  readonly url: string
  /** `scheme://host[:port]`, or the wrapped function's name. */
  readonly origin: string
}

/** What `retry.retryOn` is asked about one failed attempt. */
export interface RetryContext extends CallInfo {
  /** The attempt that just ended, 1-based. */
  readonly attempt: number
  /** The HTTP status of the attempt, if it got one (also read from a thrown error's `status`). */
  readonly status: number | undefined
  /** The error the attempt threw, if it threw. */
  readonly error: unknown
  /** Reads a response header (or a header carried by a thrown error). */
  header(name: string): string | undefined
}

export interface CacheOptions {
  /** ms a stored outcome is fresh. @default 60_000 */
  ttl?: number
  /** Most entries kept by the in-memory store. @default 10_000 */
  maxEntries?: number
  /** Largest body stored, in bytes; larger bodies are passed through whole, uncached. @default 1_048_576 */
  maxBodyBytes?: number
  /** Most bytes held by the in-memory store. @default 256 MiB */
  maxTotalBytes?: number
  /** ms past freshness during which a stale entry is served while one refresh runs. @default 0 */
  staleWhileRevalidate?: number
  /** ms past freshness during which a stale entry is served when the upstream fails. @default 0 */
  staleIfError?: number
  /** Cacheable methods. POST only by opt-in (deterministic LLM calls). @default ['GET', 'HEAD'] */
  methods?: readonly string[]
  /** Honor `no-store`, `no-cache`, `private` (shared stores), `max-age`, `s-maxage`, `must-revalidate`. @default true */
  respectCacheControl?: boolean
  /** Request headers that change the answer and so enter the key (credentials always do, hashed). */
  keyHeaders?: readonly string[]
  /** Any Keyv instance. @default lru-cache in memory; Redis with `redis` */
  store?: Keyv
  /** The store is shared between users (a `private` response is then not stored). @default false in memory, true for a given store or Redis */
  shared?: boolean
}

export interface RetryBudgetOptions {
  /** Retries allowed as a share of calls over the last 10 s. @default 0.2 */
  ratio?: number
  /** Retries always allowed per second, whatever the ratio. @default 10 */
  minPerSecond?: number
}

export type Backoff = 'exponential' | 'linear' | 'fixed'
export type Jitter = 'full' | 'equal' | 'decorrelated' | 'none'

export interface RetryOptions {
  /** Attempts in all, the first included. @default 4 */
  maxAttempts?: number
  /** ms, the first delay before jitter. @default 200 */
  baseDelay?: number
  /** ms, the largest delay. @default 20_000 */
  maxDelay?: number
  /** How the delay grows from one attempt to the next. @default 'exponential' */
  backoff?: Backoff
  /** How the delay is randomized. @default 'full' */
  jitter?: Jitter
  /** Retryable HTTP statuses. @default [408, 425, 429, 500, 502, 503, 504] */
  statuses?: readonly number[]
  /** Wait what `retry-after-ms` / `Retry-After` ask. @default true */
  respectRetryAfter?: boolean
  /** ms; when the server asks a longer wait, give up at once with its response. @default 60_000 */
  maxRetryAfter?: number
  /** ms for the whole call; no wait starts that would end past it. @default none */
  deadline?: number
  /** Retry storm guard, or `false`. @default { ratio: 0.2, minPerSecond: 10 } */
  budget?: RetryBudgetOptions | false
  /**
   * Asked about each failed attempt (a throw, or a status ≥ 400): is it retryable? Its word
   * beats the status and error rules; `undefined` keeps them. The limits still hold: attempts,
   * `maxRetryAfter`, the deadline, the budget, and a non-idempotent call is never sent twice.
   */
  retryOn?: (context: RetryContext) => boolean | undefined
}

export interface BreakerOptions {
  /** Consecutive failed calls that open the breaker. @default 5 */
  failureThreshold?: number
  /** ms the breaker stays open before one probe call is let through. @default 10_000 */
  halfOpenAfter?: number
  /** One breaker per value. @default the call's origin */
  scope?: (call: CallInfo) => string
}

/** Everything `createFetch` and `wrap` accept; every part is optional, `false` turns it off. */
export interface BreakwaterOptions {
  /** Prefix of every stored key. @default 'bw' */
  namespace?: string
  /** Share cache, coalescing, buckets and records across processes through Redis. @default off */
  redis?: RedisOption | false
  cache?: CacheOptions | false
  /** Concurrent identical calls share one upstream call. @default true */
  coalesce?: boolean
  retry?: RetryOptions | false
  /** ms per attempt; 0 turns it off. @default 30_000 */
  timeout?: number
  breaker?: BreakerOptions | false
  /** Token buckets every attempt takes from: one, or a list checked and debited together. */
  rateLimit?: RateLimitBucketOptions | readonly RateLimitBucketOptions[] | false
  /** Upstream attempts in flight at once (p-limit). @default unlimited */
  concurrency?: number | ConcurrencyOptions | false
  /** Idempotency keys for non-idempotent methods, and replay of their outcomes. */
  idempotency?: IdempotencyOptions | false
  /** Receives every event; see `BreakwaterEvent`. */
  onEvent?: (event: BreakwaterEvent) => void
  /** Time source, for tests of time itself. @default Date.now */
  clock?: Clock
}

export interface ResolvedCache {
  readonly ttl: number
  readonly maxEntries: number
  readonly maxBodyBytes: number
  readonly maxTotalBytes: number
  readonly staleWhileRevalidate: number
  readonly staleIfError: number
  readonly methods: ReadonlySet<string>
  readonly respectCacheControl: boolean
  readonly keyHeaders: readonly string[]
  readonly store: Keyv | undefined
  readonly shared: boolean
}

export interface ResolvedRetry {
  readonly maxAttempts: number
  readonly baseDelay: number
  readonly maxDelay: number
  readonly backoff: Backoff
  readonly jitter: Jitter
  readonly statuses: ReadonlySet<number>
  readonly respectRetryAfter: boolean
  readonly maxRetryAfter: number
  readonly deadline: number | undefined
  readonly budget: { readonly ratio: number; readonly minPerSecond: number } | false
  readonly retryOn: ((context: RetryContext) => boolean | undefined) | undefined
}

export interface ResolvedBreaker {
  readonly failureThreshold: number
  readonly halfOpenAfter: number
  readonly scope: (call: CallInfo) => string
}

export interface ResolvedOptions {
  readonly namespace: string
  readonly redis: ResolvedRedis | false
  readonly cache: ResolvedCache | false
  readonly coalesce: boolean
  readonly retry: ResolvedRetry | false
  readonly timeout: number
  readonly breaker: ResolvedBreaker | false
  readonly rateLimit: readonly ResolvedBucket[]
  readonly concurrency: ResolvedConcurrency | false
  readonly idempotency: ResolvedIdempotency | false
  readonly onEvent: ((event: BreakwaterEvent) => void) | undefined
  readonly clock: Clock
}

/** Request headers that change the answer of the APIs breakwater is most used with. */
export const defaultKeyHeaders: readonly string[] = [
  'accept',
  'accept-language',
  'content-type',
  'anthropic-version',
  'anthropic-beta',
  'openai-organization',
  'openai-project',
  'openai-beta',
]

export const defaults = {
  namespace: 'bw',
  cache: {
    ttl: 60_000,
    maxEntries: 10_000,
    maxBodyBytes: 1_048_576,
    maxTotalBytes: 256 * 1_048_576,
    staleWhileRevalidate: 0,
    staleIfError: 0,
    methods: ['GET', 'HEAD'],
    respectCacheControl: true,
  },
  coalesce: true,
  retry: {
    maxAttempts: 4,
    baseDelay: 200,
    maxDelay: 20_000,
    backoff: 'exponential',
    jitter: 'full',
    statuses: [408, 425, 429, 500, 502, 503, 504],
    respectRetryAfter: true,
    maxRetryAfter: 60_000,
    budget: { ratio: 0.2, minPerSecond: 10 },
  },
  timeout: 30_000,
  breaker: { failureThreshold: 5, halfOpenAfter: 10_000 },
} as const

const isString = (v: unknown) => typeof v === 'string' && v.length > 0
const isStatus = (v: unknown) => Number.isInteger(v) && (v as number) >= 100 && (v as number) <= 599

function resolveCache(value: unknown, sharedStore: boolean): ResolvedCache | false {
  if (value === false) return false
  const o = object<CacheOptions>('cache', value ?? {}, [
    'ttl',
    'maxEntries',
    'maxBodyBytes',
    'maxTotalBytes',
    'staleWhileRevalidate',
    'staleIfError',
    'methods',
    'respectCacheControl',
    'keyHeaders',
    'store',
    'shared',
  ])
  const d = defaults.cache
  if (
    o.store !== undefined &&
    (typeof o.store !== 'object' || o.store === null || typeof (o.store as Keyv).get !== 'function')
  ) {
    throw new TypeError(`cache.store must be a Keyv instance, got ${show(o.store)}`)
  }
  return {
    ttl: number('cache.ttl', o.ttl, d.ttl),
    maxEntries: integer('cache.maxEntries', o.maxEntries, d.maxEntries, 1),
    maxBodyBytes: integer('cache.maxBodyBytes', o.maxBodyBytes, d.maxBodyBytes, 0),
    maxTotalBytes: integer('cache.maxTotalBytes', o.maxTotalBytes, d.maxTotalBytes, 1),
    staleWhileRevalidate: number(
      'cache.staleWhileRevalidate',
      o.staleWhileRevalidate,
      d.staleWhileRevalidate,
    ),
    staleIfError: number('cache.staleIfError', o.staleIfError, d.staleIfError),
    methods: new Set(
      list<string>('cache.methods', o.methods, d.methods, isString, 'method names').map((m) =>
        m.toUpperCase(),
      ),
    ),
    respectCacheControl: boolean(
      'cache.respectCacheControl',
      o.respectCacheControl,
      d.respectCacheControl,
    ),
    keyHeaders: list<string>(
      'cache.keyHeaders',
      o.keyHeaders,
      defaultKeyHeaders,
      isString,
      'header names',
    ).map((h) => h.toLowerCase()),
    store: o.store,
    shared: boolean('cache.shared', o.shared, sharedStore || o.store !== undefined),
  }
}

function resolveRetry(value: unknown): ResolvedRetry | false {
  if (value === false) return false
  const o = object<RetryOptions>('retry', value ?? {}, [
    'maxAttempts',
    'baseDelay',
    'maxDelay',
    'backoff',
    'jitter',
    'statuses',
    'respectRetryAfter',
    'maxRetryAfter',
    'deadline',
    'budget',
    'retryOn',
  ])
  const d = defaults.retry
  const baseDelay = timerMs('retry.baseDelay', o.baseDelay, d.baseDelay)
  const maxDelay = timerMs('retry.maxDelay', o.maxDelay, Math.max(d.maxDelay, baseDelay))
  if (maxDelay < baseDelay) {
    throw new RangeError(`retry.maxDelay must be ≥ retry.baseDelay (${baseDelay}), got ${maxDelay}`)
  }
  let budget: ResolvedRetry['budget'] = false
  if (o.budget !== false) {
    const b = object<RetryBudgetOptions>('retry.budget', o.budget ?? {}, ['ratio', 'minPerSecond'])
    budget = {
      ratio: number('retry.budget.ratio', b.ratio, d.budget.ratio),
      minPerSecond: number('retry.budget.minPerSecond', b.minPerSecond, d.budget.minPerSecond),
    }
  }
  return {
    maxAttempts: integer('retry.maxAttempts', o.maxAttempts, d.maxAttempts, 1),
    baseDelay,
    maxDelay,
    backoff: oneOf<Backoff>('retry.backoff', o.backoff, d.backoff, [
      'exponential',
      'linear',
      'fixed',
    ]),
    jitter: oneOf<Jitter>('retry.jitter', o.jitter, d.jitter, [
      'full',
      'equal',
      'decorrelated',
      'none',
    ]),
    statuses: new Set(
      list<number>('retry.statuses', o.statuses, d.statuses, isStatus, 'HTTP statuses (100-599)'),
    ),
    respectRetryAfter: boolean('retry.respectRetryAfter', o.respectRetryAfter, d.respectRetryAfter),
    maxRetryAfter: timerMs('retry.maxRetryAfter', o.maxRetryAfter, d.maxRetryAfter),
    deadline: o.deadline === undefined ? undefined : number('retry.deadline', o.deadline, 0, 1),
    budget,
    retryOn: func('retry.retryOn', o.retryOn),
  }
}

function resolveBreaker(value: unknown): ResolvedBreaker | false {
  if (value === false) return false
  const o = object<BreakerOptions>('breaker', value ?? {}, [
    'failureThreshold',
    'halfOpenAfter',
    'scope',
  ])
  const d = defaults.breaker
  return {
    failureThreshold: integer(
      'breaker.failureThreshold',
      o.failureThreshold,
      d.failureThreshold,
      1,
    ),
    halfOpenAfter: number('breaker.halfOpenAfter', o.halfOpenAfter, d.halfOpenAfter),
    scope: func<ResolvedBreaker['scope']>('breaker.scope', o.scope) ?? ((call) => call.origin),
  }
}

/** The option names `resolveOptions` knows; front doors add their own. */
export const optionNames = [
  'namespace',
  'redis',
  'cache',
  'coalesce',
  'retry',
  'timeout',
  'breaker',
  'rateLimit',
  'concurrency',
  'idempotency',
  'onEvent',
  'clock',
] as const

/** Validates every option once, at construction, and fills in the defaults. */
export function resolveOptions(
  value: unknown,
  extraNames: readonly string[] = [],
): ResolvedOptions {
  const o = object<BreakwaterOptions>('options', value ?? {}, [...optionNames, ...extraNames])
  const namespace = o.namespace ?? defaults.namespace
  if (!isString(namespace))
    throw new TypeError(`namespace must be a non-empty string, got ${show(namespace)}`)
  const clock = o.clock ?? systemClock
  if (typeof clock !== 'object' || clock === null || typeof clock.now !== 'function') {
    throw new TypeError(`clock must be an object with now(), got ${show(clock)}`)
  }
  const redis = resolveRedis(o.redis)
  return {
    namespace,
    redis,
    cache: resolveCache(o.cache, redis !== false),
    coalesce: boolean('coalesce', o.coalesce, defaults.coalesce),
    retry: resolveRetry(o.retry),
    timeout: timerMs('timeout', o.timeout, defaults.timeout),
    breaker: resolveBreaker(o.breaker),
    rateLimit: resolveRateLimit(o.rateLimit),
    concurrency: resolveConcurrency(o.concurrency),
    idempotency: resolveIdempotency(o.idempotency),
    onEvent: func('onEvent', o.onEvent),
    clock,
  }
}
