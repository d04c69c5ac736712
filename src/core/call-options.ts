import { checkKeys, isNonEmptyString, number, oneOf, show, timerMs } from './validate.js'

/** What a call may do when its idempotency record was abandoned. */
export const unknownOutcomes = ['resend', 'fail'] as const

/** Options for one call: `init.breakwater` for fetch. */
export interface CallOptions {
  /** `false`: neither read nor write the cache for this call. @default true */
  cache?: boolean
  /** ms this call's answer stays fresh, overriding `cache.ttl` and the response's Cache-Control. */
  ttl?: number
  /** The cache and coalescing key to use instead of method, URL, headers and body. */
  key?: string
  /** `false`: one attempt only. */
  retry?: false
  /** `false`: never join or be joined by an identical call. */
  coalesce?: false
  /** ms per attempt, overriding `timeout`; 0 turns it off. */
  timeout?: number
  /** ms for the whole call, overriding `retry.deadline`. */
  deadline?: number
  /**
   * This call's idempotency key (sent in `idempotency.header`, the same on every retry): 1 to
   * 255 printable ASCII characters, no space at either end (see `checkIdempotencyKey`).
   */
  idempotencyKey?: string
  /**
   * What this call does when its idempotency key's record was abandoned (a holder's lease
   * lapsed with the call perhaps sent), overriding `idempotency.unknownOutcome`: `'resend'`, for
   * instance, once someone has checked the upstream.
   */
  unknownOutcome?: 'resend' | 'fail'
  /** Tokens this call takes: from every bucket, or by bucket name (a bucket of the instance). */
  cost?: number | Readonly<Record<string, number>>
  /**
   * Labels for what this call stores, so that `cache.invalidateTag(tag)` drops it later (in
   * every process, with Redis). At most 32 non-empty strings.
   */
  tags?: readonly string[]
}

export interface ResolvedCallOptions {
  readonly cache: boolean
  readonly ttl: number | undefined
  readonly key: string | undefined
  readonly retry: boolean
  readonly coalesce: boolean
  readonly timeout: number | undefined
  readonly deadline: number | undefined
  readonly idempotencyKey: string | undefined
  readonly unknownOutcome: 'resend' | 'fail' | undefined
  readonly cost: number | Readonly<Record<string, number>> | undefined
  readonly tags: readonly string[]
}

const none: ResolvedCallOptions = {
  cache: true,
  ttl: undefined,
  key: undefined,
  retry: true,
  coalesce: true,
  timeout: undefined,
  deadline: undefined,
  idempotencyKey: undefined,
  unknownOutcome: undefined,
  cost: undefined,
  tags: [],
}

const names = [
  'cache',
  'ttl',
  'key',
  'retry',
  'coalesce',
  'timeout',
  'deadline',
  'idempotencyKey',
  'unknownOutcome',
  'cost',
  'tags',
]

/**
 * Validates `init.breakwater` (or wrap's `with(options)`, named by `label`), a `cost` by name
 * against the instance's rate-limit buckets; the message names the option and the value.
 */
export function resolveCallOptions(
  value: unknown,
  buckets: readonly { readonly name: string }[],
  label = 'breakwater',
  extra: readonly string[] = [],
): ResolvedCallOptions {
  if (value === undefined || value === null) return none
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new TypeError(`${label} must be an object, got ${show(value)}`)
  }
  checkKeys(label, value, [...names, ...extra])
  const o = value as CallOptions
  if (o.cache !== undefined && typeof o.cache !== 'boolean') {
    throw new TypeError(`${label}.cache must be a boolean, got ${show(o.cache)}`)
  }
  if (o.retry !== undefined && o.retry !== false) {
    throw new TypeError(`${label}.retry must be false, got ${show(o.retry)}`)
  }
  if (o.coalesce !== undefined && o.coalesce !== false) {
    throw new TypeError(`${label}.coalesce must be false, got ${show(o.coalesce)}`)
  }
  if (o.key !== undefined && !isNonEmptyString(o.key)) {
    throw new TypeError(`${label}.key must be a non-empty string, got ${show(o.key)}`)
  }
  return {
    cache: o.cache ?? true,
    ttl: o.ttl === undefined ? undefined : timerMs(`${label}.ttl`, o.ttl, 0),
    key: o.key,
    retry: o.retry !== false,
    coalesce: o.coalesce !== false,
    timeout: o.timeout === undefined ? undefined : timerMs(`${label}.timeout`, o.timeout, 0),
    deadline: o.deadline === undefined ? undefined : timerMs(`${label}.deadline`, o.deadline, 0, 1),
    idempotencyKey:
      o.idempotencyKey === undefined
        ? undefined
        : checkIdempotencyKey(`${label}.idempotencyKey`, o.idempotencyKey),
    unknownOutcome:
      o.unknownOutcome === undefined
        ? undefined
        : oneOf(`${label}.unknownOutcome`, o.unknownOutcome, 'resend', unknownOutcomes),
    cost: costOf(o.cost, buckets, label),
    tags: tagsOf(o.tags, label),
  }
}

/** Most tags one call may give: each one is an index the store updates on every write. */
const maxTags = 32

function tagsOf(value: unknown, label: string): readonly string[] {
  if (value === undefined) return none.tags
  if (
    !Array.isArray(value) ||
    value.length > maxTags ||
    !value.every((tag) => isNonEmptyString(tag))
  ) {
    throw new TypeError(
      `${label}.tags must be at most ${maxTags} non-empty strings, got ${show(value)}`,
    )
  }
  return [...new Set(value as string[])]
}

/** Longest idempotency key, as Stripe allows: keys are stored, hashed and sent on every retry. */
const maxIdempotencyKeyLength = 255

// Printable ASCII, inner spaces allowed: what every server takes in a header value. `Headers`
// trims spaces at the ends, so such a key would be sent unlike the one recorded.
const idempotencyKeyForm = /^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/

/**
 * An idempotency key as a header can carry it: 1 to 255 printable ASCII characters, no space
 * at either end. Checked at the call, so that a CR/LF is refused with the option's name rather
 * than by `Headers` with none.
 */
export function checkIdempotencyKey(name: string, value: unknown): string {
  if (!isNonEmptyString(value)) {
    throw new TypeError(`${name} must be a non-empty string, got ${show(value)}`)
  }
  if (value.length > maxIdempotencyKeyLength) {
    throw new TypeError(
      `${name} must be at most ${maxIdempotencyKeyLength} characters, got ${value.length}`,
    )
  }
  if (!idempotencyKeyForm.test(value)) {
    throw new TypeError(
      `${name} must be printable ASCII with no space at either end, got ${show(value)}`,
    )
  }
  return value
}

function costOf(
  value: unknown,
  buckets: readonly { readonly name: string }[],
  label: string,
): ResolvedCallOptions['cost'] {
  if (value === undefined) return undefined
  if (typeof value === 'number') {
    return number(`${label}.cost`, value, 0, 0, Number.MAX_SAFE_INTEGER)
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TypeError(`${label}.cost must be a number or { bucket: number }, got ${show(value)}`)
  }
  for (const [bucket, n] of Object.entries(value)) {
    if (!buckets.some((b) => b.name === bucket)) {
      const known = buckets.length === 0 ? 'none' : buckets.map((b) => show(b.name)).join(', ')
      throw new RangeError(
        `${label}.cost.${bucket} names no rate-limit bucket of this instance; known: ${known}`,
      )
    }
    number(`${label}.cost.${bucket}`, n, 0, 0, Number.MAX_SAFE_INTEGER)
  }
  return value as Readonly<Record<string, number>>
}
