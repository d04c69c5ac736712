import type { CallDetails } from '../core/call.js'
import { boolean, func, isNonEmptyString, number, object, show, timerMs } from '../core/validate.js'

/**
 * One target of a pool: an API key, a deployment, a region, a base URL, or another function.
 * Each has a breaker of its own and a partition of its own in every rate-limit bucket.
 */
export interface PoolTarget {
  /** Names the target in events, `stats().servedBy`, breaker scopes and bucket partitions. */
  name: string
  /** Share of the calls among targets that can start a call equally soon. @default 1 */
  weight?: number
  /** fetch: the `scheme://host[:port]` to send to instead of the request's own. */
  origin?: string
  /** fetch: headers set on the request, replacing its own of the same name (an API key). */
  headers?: Readonly<Record<string, string>>
  /**
   * fetch: the request to send instead, built from the call's details (another provider's
   * endpoint and body). `origin` and `headers`, when also given, apply to it.
   */
  request?(call: CallDetails): Request | Promise<Request>
  /** wrap: the function to call instead of the wrapped one (another client, another provider). */
  fn?(...args: never[]): unknown
}

/** A target of `createFetch`'s pool: where and how its requests are sent. */
export type FetchTarget = Omit<PoolTarget, 'fn'>

/** A target of `wrap`'s pool: the function it calls. */
export interface WrapTarget<A extends unknown[]> extends Pick<PoolTarget, 'name' | 'weight'> {
  /** The function to call instead of the wrapped one (another client, another provider). */
  fn?(...args: A): unknown
}

/** Which failures of a target move a call on to the next one. */
export interface FailoverOptions {
  /**
   * Statuses a target's answer may end on, after its own retries, to move on.
   * @default 408, 429 and every 5xx but 501 and 505
   */
  statuses?: readonly number[]
  /** Network errors and timeouts, after the target's own retries. @default true */
  errors?: boolean
  /**
   * breakwater's own refusals on the target, before anything was sent: its breaker open, its
   * buckets unable to start the call within `maxWait`. @default true
   */
  refusals?: boolean
}

/**
 * One logical endpoint served by several targets. A call goes to the target that can start it
 * soonest on its rate-limit buckets (weights breaking ties), and moves on when the target
 * fails in a way its own retries did not cure; `fallbacks` are tried, in order, after every
 * target. A call that is not resendable (a POST without an idempotency key) moves on only from
 * a refusal, when nothing was sent.
 */
export interface PoolOptions<T extends PoolTarget = PoolTarget> {
  /** The targets that share the calls. @default one target, the call as it is, named 'primary' */
  targets?: readonly T[]
  /** Alternates tried one by one, in order, once every target has failed the call. */
  fallbacks?: readonly T[]
  /** Which failures move a call on. */
  failoverOn?: FailoverOptions
  /**
   * ms a target that failed a call is passed over (unless every target is), when the failure
   * named no wait of its own (a `Retry-After`, an open breaker's, a budget's). @default 10_000
   */
  cooldown?: number
}

/** A target as the pool stage uses it. */
export interface ResolvedTarget {
  readonly name: string
  readonly weight: number
  /** 0 for the targets; 1, 2... for each fallback in turn. */
  readonly tier: number
  readonly origin: string | undefined
  readonly headers: Readonly<Record<string, string>> | undefined
  readonly request: ((call: CallDetails) => Request | Promise<Request>) | undefined
  readonly fn: ((...args: never[]) => unknown) | undefined
}

export interface ResolvedFailover {
  readonly statuses: ReadonlySet<number>
  readonly errors: boolean
  readonly refusals: boolean
}

export interface ResolvedPool {
  readonly targets: readonly ResolvedTarget[]
  readonly failover: ResolvedFailover
  readonly cooldown: number
}

/** 408, 429 and every 5xx but 501 and 505, which no other target cures either. */
const failoverStatuses: readonly number[] = [
  408,
  429,
  ...Array.from({ length: 100 }, (_, i) => 500 + i).filter((s) => s !== 501 && s !== 505),
]

export const poolDefaults = { cooldown: 10_000, weight: 1 } as const

const targetKeys = ['name', 'weight', 'origin', 'headers', 'request', 'fn']

/** Validates `pool`: at least one target, names unique. */
export function resolvePool(value: unknown): ResolvedPool | false {
  if (value === undefined || value === false) return false
  const o = object<PoolOptions>('pool', value, ['targets', 'fallbacks', 'failoverOn', 'cooldown'])
  const targets =
    o.targets === undefined
      ? [primary]
      : listOf('pool.targets', o.targets).map((t, i) => resolveTarget(`pool.targets[${i}]`, t, 0))
  const fallbacks = listOf('pool.fallbacks', o.fallbacks ?? []).map((t, i) =>
    resolveTarget(`pool.fallbacks[${i}]`, t, i + 1),
  )
  const all = [...targets, ...fallbacks]
  const names = new Set<string>()
  for (const t of all) {
    if (names.has(t.name))
      throw new TypeError(`pool target names must be unique, got "${t.name}" twice`)
    names.add(t.name)
  }
  return {
    targets: all,
    failover: resolveFailover(o.failoverOn),
    cooldown: timerMs('pool.cooldown', o.cooldown, poolDefaults.cooldown),
  }
}

/** The call as it is, when the pool names no targets of its own. */
const primary: ResolvedTarget = {
  name: 'primary',
  weight: poolDefaults.weight,
  tier: 0,
  origin: undefined,
  headers: undefined,
  request: undefined,
  fn: undefined,
}

function listOf(name: string, value: unknown): readonly unknown[] {
  if (!Array.isArray(value) || (name === 'pool.targets' && value.length === 0)) {
    throw new TypeError(
      `${name} must be a${name === 'pool.targets' ? ' non-empty' : 'n'} array of targets, got ${show(value)}`,
    )
  }
  return value
}

function resolveTarget(name: string, value: unknown, tier: number): ResolvedTarget {
  const o = object<PoolTarget>(name, value, targetKeys)
  if (!isNonEmptyString(o.name)) {
    throw new TypeError(`${name}.name must be a non-empty string, got ${show(o.name)}`)
  }
  return {
    name: o.name,
    weight: number(`${name}.weight`, o.weight, poolDefaults.weight, Number.MIN_VALUE),
    tier,
    origin: originOf(`${name}.origin`, o.origin),
    headers: headersOf(`${name}.headers`, o.headers),
    request: func(`${name}.request`, o.request),
    fn: func(`${name}.fn`, o.fn),
  }
}

function originOf(name: string, value: unknown): string | undefined {
  if (value === undefined) return undefined
  const url = typeof value === 'string' && URL.canParse(value) ? new URL(value) : undefined
  if (url === undefined || !/^https?:$/.test(url.protocol) || url.origin === 'null') {
    throw new TypeError(`${name} must be an http(s) URL's origin, got ${show(value)}`)
  }
  return url.origin
}

function headersOf(name: string, value: unknown): Readonly<Record<string, string>> | undefined {
  if (value === undefined) return undefined
  const o = typeof value === 'object' && value !== null && !Array.isArray(value) ? value : undefined
  if (o === undefined || Object.values(o).some((v) => typeof v !== 'string')) {
    throw new TypeError(`${name} must be an object of header strings, got ${show(value)}`)
  }
  return o as Record<string, string>
}

function resolveFailover(value: unknown): ResolvedFailover {
  const o = object<FailoverOptions>('pool.failoverOn', value ?? {}, [
    'statuses',
    'errors',
    'refusals',
  ])
  const statuses = o.statuses ?? failoverStatuses
  if (
    !Array.isArray(statuses) ||
    statuses.some((s) => !Number.isInteger(s) || s < 400 || s > 599)
  ) {
    throw new TypeError(
      `pool.failoverOn.statuses must be an array of statuses 400–599, got ${show(statuses)}`,
    )
  }
  return {
    statuses: new Set(statuses),
    errors: boolean('pool.failoverOn.errors', o.errors, true),
    refusals: boolean('pool.failoverOn.refusals', o.refusals, true),
  }
}

/**
 * Refuses what a front door cannot do with a target: a function for a fetch, a request
 * rewrite for a wrapped function.
 */
export function checkPoolFor(pool: ResolvedPool | false, door: 'createFetch' | 'wrap'): void {
  if (pool === false) return
  pool.targets.forEach((t) => {
    const wrong =
      door === 'createFetch'
        ? t.fn !== undefined && 'fn'
        : (t.origin !== undefined && 'origin') ||
          (t.headers !== undefined && 'headers') ||
          (t.request !== undefined && 'request')
    if (wrong) {
      throw new TypeError(
        `pool target "${t.name}": ${door} takes no ${wrong} (${door === 'wrap' ? 'a wrap target names fn' : 'a fetch target names origin, headers or request'})`,
      )
    }
  })
}
