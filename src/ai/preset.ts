/**
 * What the three presets share: validating their arguments once, and assembling breakwater
 * options from a provider's rules (statuses, refusals, buckets).
 */
import type { CacheOptions } from '../cache/options.js'
import type { CallDetails } from '../core/call.js'
import type { Outcome } from '../core/outcome.js'
import { boolean, checkKeys, number, show } from '../core/validate.js'
import type { BreakwaterOptions } from '../options.js'
import type { RateLimitBucketOptions, ServerLimit } from '../ratelimit/options.js'
import type { RetryContext, RetryOptions } from '../retry/options.js'
import type { StreamCommit } from '../stream/verdict.js'
import { type CachePolicy, isCacheableCall } from './deterministic.js'
import { isErrorAnswer } from './error-body.js'
import { type Params, paramsOf } from './params.js'
import { type PresetPoolOptions, type ProviderWire, presetPool } from './pool.js'

/**
 * What every preset takes besides its provider's limits. `B` names the preset's rate-limit
 * buckets (the names in the README's budgets table), for `burst`.
 */
export interface PresetOptions<B extends string = string> extends PresetPoolOptions {
  /**
   * Most a bucket holds, by bucket name (`{ requests: 10 }`): how many requests, or tokens, may
   * go out at once after a quiet spell. At least 1, and only for a bucket the preset has (its
   * limit is set). Lower it where a provider enforces its per-minute limit in shorter slices.
   * @default a minute's worth of each limit (`requestsPerDay`: a day's)
   */
  burst?: Partial<Record<B, number>>
  /**
   * Cache options for the calls the cache may take (`methods`, `cacheable`, `storable` and
   * `streams` are the preset's), or `false`. @default {} (on, `ttl` 60 s)
   */
  cache?: Omit<CacheOptions, 'methods' | 'cacheable' | 'storable' | 'streams'> | false
  /** Cache and merge calls at any temperature, not only at temperature 0. @default false */
  cacheNonDeterministic?: boolean
  /** Store a finished stream and replay it as a stream to a repeat of the call. @default false */
  cacheStreams?: boolean
  /**
   * Retry options (`statuses`, `retryOn` and `retryAfter` are the preset's), or `false`.
   * @default {} (4 attempts in all)
   */
  retry?: Omit<RetryOptions, 'statuses' | 'retryOn' | 'retryAfter'> | false
  /**
   * ms per attempt, to the body's last byte (a stream's: to its first content event).
   * @default 600_000, as the SDKs
   */
  timeout?: number
  /**
   * ms a stream may go without a byte: before its first content event the attempt is retried,
   * after it the stream errors with `TimeoutError`. 0: no limit. @default 0 (a reasoning model
   * may think for minutes before it writes)
   */
  streamIdleTimeout?: number
  /** ms a call may wait for its budget before `RateLimitError`. @default 60_000 */
  maxWait?: number
  /** One budget per value (per API key, per model...). @default the call's origin */
  key?: RateLimitBucketOptions['key']
}

const presetOptionNames = [
  'cache',
  'cacheNonDeterministic',
  'cacheStreams',
  'retry',
  'timeout',
  'streamIdleTimeout',
  'maxWait',
  'key',
  'burst',
  'keys',
  'fallbackModels',
  'pool',
] as const

/** Reads the preset's argument: an object (or nothing) whose every key is known. */
export function presetArgs<T extends PresetOptions>(
  preset: string,
  value: unknown,
  limits: readonly string[],
): T {
  if (value === undefined) return {} as T
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TypeError(`${preset}() options must be an object, got ${show(value)}`)
  }
  checkKeys(preset, value, [...limits, ...presetOptionNames])
  const o = value as T
  for (const name of ['cacheNonDeterministic', 'cacheStreams'] as const) {
    boolean(`${preset}.${name}`, o[name], false)
  }
  return o
}

/** A limit per minute (or per day): a positive finite number, or absent. */
export function limit(preset: string, name: string, value: unknown): number | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new RangeError(`${preset}.${name} must be a positive finite number, got ${show(value)}`)
  }
  return value
}

/** One token budget of a provider, before it becomes a bucket. */
export interface TokenBudget {
  readonly name: string
  /** Tokens per minute. */
  readonly perMinute: number
  /** Estimated tokens of a call, from its parameters, before it is sent. */
  readonly estimate: (params: Params) => number
  /** True tokens of a finished call, from its `usage`; `undefined` keeps the estimate. */
  readonly actual: (outcome: Outcome) => number | undefined
  readonly serverLimit: ServerLimit | false
}

/** One requests budget of a provider: per minute, holding `capacity` (by default a minute's). */
export interface RequestBudget {
  readonly name: string
  readonly perMinute: number
  readonly capacity?: number
}

/** How a provider wants its calls retried, beyond the core rules, and how it names its limits. */
export interface ProviderRules {
  /** The preset's name, for messages. */
  readonly preset: string
  /** Every bucket the preset can have, by name, with the option that turns it on. */
  readonly buckets: Readonly<Record<string, string>>
  readonly statuses: readonly number[]
  readonly retryOn: (context: RetryContext) => boolean | undefined
  readonly retryAfter?: (context: RetryContext) => number | undefined
  /** Where the provider's streams are committed, and what their error events stand for. */
  readonly streamCommit: StreamCommit
  /** How requests carry a key and a model, for `keys` and `fallbackModels`. */
  readonly wire: ProviderWire
}

/** Every 5xx but 501 and 505, which another attempt cannot cure. */
export const serverErrors: readonly number[] = Array.from(
  { length: 100 },
  (_, i) => 500 + i,
).filter((s) => s !== 501 && s !== 505)

/**
 * The breakwater options of a preset: the provider's retry rules; a requests bucket and the
 * token buckets, all checked together; deterministic calls cached; the rest left to the core
 * defaults (idempotency keys on every POST, the breaker).
 */
export function assemble(
  o: PresetOptions,
  rules: ProviderRules,
  requests: readonly RequestBudget[],
  budgets: readonly TokenBudget[],
): BreakwaterOptions {
  const capacityOf = burstOf(rules, o.burst, [...requests, ...budgets])
  const policy: CachePolicy = {
    cacheNonDeterministic: o.cacheNonDeterministic ?? false,
    cacheStreams: o.cacheStreams ?? false,
  }
  const shared = {
    ...(o.key === undefined ? {} : { key: o.key }),
    ...(o.maxWait === undefined ? {} : { maxWait: o.maxWait }),
  }
  const rateLimit: RateLimitBucketOptions[] = [
    ...requests.map((r) => ({
      ...shared,
      name: r.name,
      perMinute: r.perMinute,
      capacity: capacityOf(r),
      serverLimit: r.name === 'requests' ? ('requests' as const) : (false as const),
    })),
    ...budgets.map((b) => ({
      ...shared,
      name: b.name,
      perMinute: b.perMinute,
      capacity: capacityOf(b),
      cost: (call: CallDetails) => {
        const params = paramsOf(call)
        return params === undefined ? 0 : b.estimate(params)
      },
      // A refused or failed call is not billed: its whole estimate comes back.
      actualCost: (outcome: Outcome) =>
        outcome.kind === 'http' && outcome.status >= 400 ? 0 : b.actual(outcome),
      serverLimit: b.serverLimit,
    })),
  ]
  const options: BreakwaterOptions = {
    timeout: o.timeout ?? 600_000,
    streamCommit: rules.streamCommit,
    ...(o.streamIdleTimeout === undefined ? {} : { streamIdleTimeout: o.streamIdleTimeout }),
    retry:
      o.retry === false
        ? false
        : {
            ...o.retry,
            statuses: rules.statuses,
            retryOn: rules.retryOn,
            ...(rules.retryAfter === undefined ? {} : { retryAfter: rules.retryAfter }),
          },
    cache:
      o.cache === false
        ? false
        : {
            // Event streams come marked `no-cache` (for proxies, not for answers), and a POST
            // answer's reuse is the application's contract here, decided by `cacheable`.
            respectCacheControl: false,
            ...o.cache,
            methods: ['GET', 'HEAD', 'POST'],
            cacheable: (call) => isCacheableCall(call, policy),
            storable: (outcome) => !isErrorAnswer(outcome),
            streams: policy.cacheStreams,
          },
  }
  if (rateLimit.length > 0) options.rateLimit = rateLimit
  const pool = presetPool(rules.preset, o, rules.wire)
  if (pool !== undefined) options.pool = pool
  return options
}

/**
 * Checks `burst` once against the buckets the preset has, and returns each bucket's capacity:
 * the burst given, else its own (a day's quota), else a minute's worth. Anthropic and OpenAI
 * document per-minute limits replenished continuously (a token bucket); a second's worth would
 * space a handful of parallel calls seconds apart, and refuse every token-heavy call outright.
 */
function burstOf(
  rules: ProviderRules,
  value: unknown,
  present: readonly { readonly name: string; readonly perMinute: number; capacity?: number }[],
): (bucket: { readonly name: string; readonly perMinute: number; capacity?: number }) => number {
  const name = `${rules.preset}.burst`
  const given: Record<string, number> = {}
  if (value !== undefined) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new TypeError(`${name} must be an object of bucket sizes, got ${show(value)}`)
    }
    checkKeys(name, value, Object.keys(rules.buckets))
    for (const [bucket, size] of Object.entries(value)) {
      if (size === undefined) continue
      if (!present.some((b) => b.name === bucket)) {
        throw new RangeError(
          `${name}.${bucket} sizes a bucket this preset does not have: set ${rules.buckets[bucket]}`,
        )
      }
      given[bucket] = number(`${name}.${bucket}`, size, 1, 1)
    }
  }
  return (bucket) => given[bucket.name] ?? bucket.capacity ?? bucket.perMinute
}
