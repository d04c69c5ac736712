import type { CallDetails } from '../core/call.js'
import type { Outcome } from '../core/outcome.js'
import {
  func,
  maxTimerMs,
  memoryCount,
  number,
  object,
  oneOf,
  show,
  timerMs,
} from '../core/validate.js'

/** Server-reported limits a bucket can mirror (OpenAI, Anthropic and IETF RateLimit headers). */
export type ServerLimit = 'requests' | 'tokens' | 'input-tokens' | 'output-tokens'

/** One token bucket. */
export interface RateLimitBucketOptions {
  /** Names the bucket in errors, events, per-call `cost` and `adjust()`. */
  name: string
  /** Burst: most tokens held. @default one second's worth of the rate (at least 1) */
  capacity?: number
  /** Tokens added per second. Give this or one of `perSecond`, `perMinute`, `perHour`. */
  refillPerSecond?: number
  perSecond?: number
  perMinute?: number
  perHour?: number
  /** Tokens one call takes: a number, or a function of the call (estimated LLM tokens). @default 1 */
  cost?: number | ((call: CallDetails) => number)
  /** One bucket per value. @default the call's origin */
  key?: (call: CallDetails) => string
  /** `'wait'` for tokens (in arrival order), or `'reject'` at once with `RateLimitError`. @default 'wait' */
  mode?: 'wait' | 'reject'
  /** ms a call may wait for tokens before it fails with `RateLimitError`. @default 60_000 */
  maxWait?: number
  /**
   * The server limit this bucket mirrors: its remaining/reset headers may lower the bucket,
   * never raise it. @default 'requests' when `cost` is left at 1, none otherwise
   */
  serverLimit?: ServerLimit | false
  /**
   * The true cost once the call has ended (e.g. tokens from `usage`): the difference with the
   * estimate is refunded or owed. Return `undefined` to keep the estimate.
   */
  actualCost?: (outcome: Outcome, call: CallDetails) => number | undefined
  /**
   * Most partitions (values of `key`) holding spent budget that one process keeps in memory,
   * at most 10,000,000. A partition is forgotten only once it is full again; while all of them
   * hold spent budget, a call with a new key is refused (`RateLimitError`, counted in
   * `partitionRejects`) until the first is full again. Redis holds the shared buckets itself;
   * this bounds their local share. @default 10_000
   */
  maxKeys?: number
}

export interface ResolvedBucket {
  readonly name: string
  readonly capacity: number
  readonly refillPerSecond: number
  readonly cost: (call: CallDetails) => number
  readonly key: (call: CallDetails) => string
  readonly mode: 'wait' | 'reject'
  readonly maxWait: number
  readonly serverLimit: ServerLimit | undefined
  readonly actualCost: ((outcome: Outcome, call: CallDetails) => number | undefined) | undefined
  readonly maxKeys: number
}

const byOrigin = (call: CallDetails) => call.origin
const serverLimits: readonly ServerLimit[] = ['requests', 'tokens', 'input-tokens', 'output-tokens']

function resolveBucket(name: string, value: unknown): ResolvedBucket {
  const o = object<RateLimitBucketOptions>(name, value, [
    'name',
    'capacity',
    'refillPerSecond',
    'perSecond',
    'perMinute',
    'perHour',
    'cost',
    'key',
    'mode',
    'maxWait',
    'serverLimit',
    'actualCost',
    'maxKeys',
  ])
  if (typeof o.name !== 'string' || o.name.length === 0) {
    throw new TypeError(`${name}.name must be a non-empty string, got ${show(o.name)}`)
  }
  const refillPerSecond = resolveRefill(name, o)
  const capacity = resolveCapacity(name, o, refillPerSecond)
  return {
    name: o.name,
    capacity,
    refillPerSecond,
    cost: resolveCost(name, o, capacity),
    key: func<ResolvedBucket['key']>(`${name}.key`, o.key) ?? byOrigin,
    mode: oneOf(`${name}.mode`, o.mode, 'wait', ['wait', 'reject'] as const),
    maxWait: timerMs(`${name}.maxWait`, o.maxWait, 60_000),
    serverLimit: resolveServerLimit(name, o),
    actualCost: func(`${name}.actualCost`, o.actualCost),
    maxKeys: memoryCount(`${name}.maxKeys`, o.maxKeys, 10_000),
  }
}

/** Tokens per second, from exactly one of the four ways to give the rate. */
function resolveRefill(name: string, o: RateLimitBucketOptions): number {
  const rates = (['refillPerSecond', 'perSecond', 'perMinute', 'perHour'] as const).filter(
    (k) => o[k] !== undefined,
  )
  if (rates.length !== 1) {
    throw new TypeError(
      `${name} needs exactly one of refillPerSecond, perSecond, perMinute, perHour, got ${
        rates.length === 0 ? 'none' : rates.join(' and ')
      }`,
    )
  }
  const rate = rates[0] as (typeof rates)[number]
  const per = { refillPerSecond: 1, perSecond: 1, perMinute: 60, perHour: 3_600 }[rate]
  const refillPerSecond = number(`${name}.${rate}`, o[rate], 0, Number.MIN_VALUE) / per
  // One token takes 1000 / refillPerSecond ms: past a timer's reach it is no rate (and at
  // Infinity the bucket math turns to NaN and admits everything).
  if (1_000 / refillPerSecond > maxTimerMs) {
    throw new RangeError(
      `${name}.${rate} must be at least ${(per * 1_000) / maxTimerMs} (one token every ${maxTimerMs} ms at most), got ${show(o[rate])}`,
    )
  }
  return refillPerSecond
}

function resolveCapacity(name: string, o: RateLimitBucketOptions, refillPerSecond: number): number {
  const capacity = number(
    `${name}.capacity`,
    o.capacity,
    Math.max(1, refillPerSecond),
    Number.MIN_VALUE,
  )
  // The time to refill from empty is a duration the bucket keeps (and Redis sets as a TTL).
  const refillMs = (capacity * 1_000) / refillPerSecond
  if (refillMs > maxTimerMs) {
    throw new RangeError(
      `${name}.capacity must refill within ${maxTimerMs} ms at ${refillPerSecond} tokens/s (at most ${(maxTimerMs * refillPerSecond) / 1_000}), got ${show(o.capacity)}`,
    )
  }
  return capacity
}

function resolveCost(
  name: string,
  o: RateLimitBucketOptions,
  capacity: number,
): ResolvedBucket['cost'] {
  if (typeof o.cost === 'function') return o.cost
  if (o.cost === undefined) return () => 1
  const fixed = number(`${name}.cost`, o.cost, 1)
  if (fixed > capacity) {
    throw new RangeError(
      `${name}.cost (${fixed}) exceeds its capacity (${capacity}): no call could pass`,
    )
  }
  return () => fixed
}

function resolveServerLimit(name: string, o: RateLimitBucketOptions): ServerLimit | undefined {
  if (o.serverLimit === false) return undefined
  if (o.serverLimit === undefined)
    return o.cost === undefined || o.cost === 1 ? 'requests' : undefined
  return oneOf<ServerLimit>(`${name}.serverLimit`, o.serverLimit, 'requests', serverLimits)
}

/** Validates `rateLimit`: one bucket or a list, names unique. */
export function resolveRateLimit(value: unknown): readonly ResolvedBucket[] {
  if (value === undefined || value === false) return []
  const buckets = Array.isArray(value)
    ? value.map((b, i) => resolveBucket(`rateLimit[${i}]`, b))
    : [resolveBucket('rateLimit', value)]
  const names = new Set<string>()
  for (const b of buckets) {
    if (names.has(b.name))
      throw new TypeError(`rateLimit names must be unique, got "${b.name}" twice`)
    names.add(b.name)
  }
  return buckets
}
