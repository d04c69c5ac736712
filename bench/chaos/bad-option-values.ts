/**
 * Option values that must be refused, built from what each option is: a duration, a count, a
 * rate, a flag, a choice, a function, a name or a list. Each entry is the options object to pass
 * and the path its message must name.
 */

export interface BadOption {
  /** The option's path as messages write it (`retry.maxAttempts`, `rateLimit.perSecond`). */
  readonly path: string
  readonly value: unknown
  /** Where the option goes: construction of `createFetch`, `wrap`, or one `fetch` call. */
  readonly where: 'createFetch' | 'wrap' | 'call'
}

/** Counts a user may set are at most this; durations fit a Node timer. */
export const maxCount = 10_000_000
export const maxDuration = 2 ** 31 - 1

const notNumbers: readonly unknown[] = [
  '5',
  '',
  null,
  true,
  false,
  {},
  [],
  [1],
  () => 1,
  10n,
  Symbol('x'),
  new Date(0),
  Number.NaN,
]
const badNumbers: readonly unknown[] = [
  ...notNumbers,
  -1,
  -0.5,
  Number.NEGATIVE_INFINITY,
  Number.POSITIVE_INFINITY,
  -Number.MAX_VALUE,
]
const durations = [...badNumbers, maxDuration + 1, 2 ** 32, Number.MAX_VALUE, 1e300]
const counts = [...badNumbers, 0, 1.5, maxCount + 1, 2 ** 53, Number.MAX_SAFE_INTEGER + 2]
const rates = [...badNumbers, 0, Number.MAX_VALUE * 2]
const flags: readonly unknown[] = ['true', 1, 0, null, {}, [], () => true]
const choices: readonly unknown[] = ['', 'nope', 1, null, {}, [], true, 'WAIT']
const functions: readonly unknown[] = ['fn', 1, null, {}, [], true]
const names: readonly unknown[] = ['', 1, null, {}, [], true, () => 'x']
const lists: readonly unknown[] = ['GET', 1, null, {}, true, [1], [''], [null], [{}]]
const objects: readonly unknown[] = ['yes', 1, true, [], () => ({})]

/** Options by kind, as paths under `createFetch`'s options. */
const byKind: Readonly<Record<string, readonly [readonly string[], readonly unknown[]]>> = {
  durations: [
    [
      'timeout',
      'retry.baseDelay',
      'retry.maxDelay',
      'retry.maxRetryAfter',
      'retry.deadline',
      'cache.ttl',
      'cache.staleWhileRevalidate',
      'cache.staleIfError',
      'breaker.halfOpenAfter',
      'idempotency.ttl',
      'rateLimit.maxWait',
      'redis.timeout',
      'redis.l1.ttl',
    ],
    durations,
  ],
  counts: [
    [
      'retry.maxAttempts',
      'cache.maxEntries',
      'breaker.failureThreshold',
      'idempotency.maxRecords',
      'concurrency.limit',
      'redis.processes',
      'redis.l1.maxEntries',
    ],
    counts,
  ],
  // `concurrency: false` turns the limit off.
  limits: [['concurrency'], counts.filter((v) => v !== false)],
  bytes: [
    ['cache.maxBodyBytes', 'cache.maxTotalBytes'],
    [...badNumbers, 1.5],
  ],
  rates: [
    [
      'rateLimit.perSecond',
      'rateLimit.perMinute',
      'rateLimit.perHour',
      'rateLimit.refillPerSecond',
      'rateLimit.capacity',
    ],
    rates,
  ],
  // 0 is a budget that allows no retries at all: a choice, not a mistake.
  budgets: [['retry.budget.ratio', 'retry.budget.minPerSecond'], badNumbers],
  shares: [['redis.localShare'], [...rates, 1.5]],
  flags: [
    [
      'coalesce',
      'cache.respectCacheControl',
      'cache.shared',
      'cache.streams',
      'retry.respectRetryAfter',
      'idempotency.replay',
    ],
    flags,
  ],
  choices: [
    [
      'retry.backoff',
      'retry.jitter',
      'rateLimit.mode',
      'rateLimit.serverLimit',
      'idempotency.concurrent',
      'redis.onError',
    ],
    choices,
  ],
  functions: [
    [
      'onEvent',
      'cache.cacheable',
      'cache.storable',
      'retry.retryOn',
      'retry.retryAfter',
      'breaker.scope',
      'rateLimit.key',
      'rateLimit.actualCost',
      'concurrency.key',
      'fetch',
    ],
    functions,
  ],
  names: [['namespace', 'idempotency.header', 'rateLimit.name', 'redis.url'], names],
  lists: [['cache.methods', 'cache.keyHeaders', 'retry.statuses', 'idempotency.methods'], lists],
  objects: [
    ['cache', 'retry', 'breaker', 'idempotency', 'retry.budget', 'redis.l1', 'clock'],
    objects,
  ],
}

/** What an option needs beside it to be looked at at all (a bucket needs a name and a rate). */
const beside: Readonly<Record<string, Record<string, unknown>>> = {
  rateLimit: { name: 'r', perSecond: 10 },
  concurrency: { limit: 1 },
  redis: { url: 'redis://127.0.0.1:9' },
}

/** `{ a: { b: value } }` for path `a.b`, with what the parent needs beside it. */
export function optionsFor(path: string, value: unknown): Record<string, unknown> {
  const [head, ...rest] = path.split('.')
  if (head === undefined || rest.length === 0) return { [path]: value }
  let inner: Record<string, unknown> = { [rest.at(-1) as string]: value }
  for (const part of rest.slice(0, -1).reverse()) inner = { [part]: inner }
  const base = { ...beside[head] }
  // A rate under test replaces the bucket's own rate: a bucket takes exactly one.
  if (head === 'rateLimit' && /^(per|refill)/.test(rest[0] ?? '')) delete base.perSecond
  return { [head]: { ...base, ...inner } }
}

const perCall: readonly [string, readonly unknown[]][] = [
  ['breakwater.ttl', durations],
  ['breakwater.timeout', durations],
  ['breakwater.deadline', [...durations, 0]],
  ['breakwater.cost', [...notNumbers.filter((v) => typeof v !== 'object' || v === null), -1]],
  ['breakwater.key', names],
  ['breakwater.idempotencyKey', [...names, 'k\u0000', 'k\n', 'é', 'x'.repeat(256)]],
]
const ofWrap: readonly [string, readonly unknown[]][] = [
  ['key', functions],
  ['idempotencyKey', functions],
  ['name', names],
]

/** Every bad value, once. */
export function badOptions(): BadOption[] {
  const all: BadOption[] = []
  for (const [paths, values] of Object.values(byKind)) {
    for (const path of paths)
      for (const value of values) all.push({ path, value, where: 'createFetch' })
  }
  for (const [path, values] of perCall)
    for (const value of values) all.push({ path, value, where: 'call' })
  for (const [path, values] of ofWrap)
    for (const value of values) all.push({ path, value, where: 'wrap' })
  return all
}
