import { createInstance } from './chain.js'
import { type Call, callDetails, createCall, type ValueCallInit } from './core/call.js'
import {
  type CallOptions,
  checkIdempotencyKey,
  type ResolvedCallOptions,
  resolveCallOptions,
} from './core/call-options.js'
import { canonicalJson, valueKey } from './core/key.js'
import type { ValueOutcome } from './core/outcome.js'
import type { Stats } from './core/stats.js'
import { checkTag, func, isNonEmptyString, show } from './core/validate.js'
import { cloneValue } from './http/value-copy.js'
import { type BreakwaterOptions, type ResolvedOptions, resolveOptions } from './options.js'
import { checkPoolFor, type PoolOptions, type WrapTarget } from './pool/options.js'
import { createFunctionTransport } from './transport/function-transport.js'

/** `wrap` options: every breakwater option, plus how calls are keyed and named. */
export interface WrapOptions<A extends unknown[]> extends BreakwaterOptions {
  /**
   * The cache and coalescing key of a call. @default canonical JSON of the arguments (object
   * keys sorted)
   */
  key?: (...args: A) => string
  /** Names the function in keys, events and the default breaker scope. @default fn.name or 'wrap' */
  name?: string
  /**
   * The idempotency key of a call: its outcome is recorded and replayed to a repeat of the key.
   * 1 to 255 printable ASCII characters, no space at either end, or `undefined` for none.
   */
  idempotencyKey?: (...args: A) => string | undefined
  /**
   * Several functions for the calls (one client per API key) and fallbacks (another provider's
   * call, taking the same arguments); a target without `fn` calls the wrapped function.
   */
  pool?: PoolOptions<WrapTarget<A>> | false
}

/**
 * Options for one call of a wrapped function: fetch's per-call options, and the caller's
 * `signal`. `key` and `idempotencyKey` given here take the place of the `key(...)` and
 * `idempotencyKey(...)` the wrap was given.
 */
export interface WrapCallOptions extends CallOptions {
  /**
   * Abandons the call: it rejects with `signal.reason` at once, whatever it waits for (a
   * backoff, a rate-limit budget, a concurrency slot) or runs. breakwater cannot reach into the
   * function: its own request runs on unless it is given the same signal.
   */
  signal?: AbortSignal
}

/** The wrapped function, plus its numbers and its shutdown. */
export interface Wrapped<A extends unknown[], R> {
  (...args: A): Promise<R>
  /**
   * The same function with options for the calls made through it, validated once, here.
   *
   * @example
   * const message = await create.with({ signal, ttl: 3_600_000 })(params)
   * const fresh = await create.with({ cache: false })(params)
   */
  with(options: WrapCallOptions): (...args: A) => Promise<R>
  /** What this instance did so far. */
  stats(): Stats
  /**
   * Adds `delta` tokens to rate-limit bucket `name` under partition `key` (negative: a debt
   * that later calls wait out), e.g. to reconcile an estimated cost with the real one.
   */
  adjust(name: string, key: string, delta: number): void
  /** The cache, commanded by arguments: delete, invalidate by tag, clear. */
  readonly cache: WrapCache<A>
  /** Waits for background refreshes, then releases the store it opened. */
  close(): Promise<void>
}

/**
 * The cache of a wrapped function. With `redis`, what one process deletes is gone for every
 * process. Each command rejects when the store fails; without a cache it does nothing.
 */
export interface WrapCache<A extends unknown[]> {
  /** Deletes what the cache holds for a call with these arguments. */
  delete(...args: A): Promise<void>
  /** Deletes every result stored by a call tagged `tag` (`with({ tags: [tag] })`). */
  invalidateTag(tag: string): Promise<void>
  /** Deletes everything in this instance's cache store. */
  clear(): Promise<void>
}

/**
 * Puts breakwater in front of any promise-returning function, such as an SDK call. What the
 * function throws is classified by its `status`/`statusCode`, `headers` and `code` (also on
 * `cause`). Shared results (cached or coalesced) are handed out as copies.
 *
 * @example
 * const create = wrap((params) => client.messages.create(params), { cache: { ttl: 60_000 } })
 * const message = await create({ model, max_tokens: 256, messages })
 */
export function wrap<A extends unknown[], R>(
  fn: (...args: A) => Promise<R> | R,
  options: WrapOptions<A> = {},
): Wrapped<A, R> {
  if (typeof fn !== 'function') throw new TypeError(`wrap: fn must be a function, got ${show(fn)}`)
  const resolved = resolveOptions(options, ['key', 'name', 'idempotencyKey'])
  checkPoolFor(resolved.pool, 'wrap')
  const keyOf = func<(...args: A) => string>('key', options.key)
  const idempotencyKeyOf = func<(...args: A) => string | undefined>(
    'idempotencyKey',
    options.idempotencyKey,
  )
  const name = options.name === undefined ? fn.name || 'wrap' : options.name
  if (!isNonEmptyString(name)) {
    throw new TypeError(`name must be a non-empty string, got ${show(name)}`)
  }
  const instance = createInstance(resolved, (context) =>
    createFunctionTransport(fn as (...args: never[]) => unknown, context.counters),
  )
  const facts: WrapFacts<A> = { name, resolved, keyOf, idempotencyKeyOf }
  const shared = resolved.cache !== false || resolved.coalesce
  const run = async (args: A, per: ResolvedCallOptions, signal?: AbortSignal): Promise<R> => {
    signal?.throwIfAborted()
    if (instance.closed) throw new TypeError(`wrap(${name}) called after close()`)
    instance.context.counters.requests++
    const call = valueCallOf(facts, args, per, signal)
    const outcome = (await abandonable(instance.run(call), signal)) as ValueOutcome
    return (shared ? copyOf(outcome.value) : outcome.value) as R
  }
  const plain = resolveCallOptions(undefined, [])
  const wrapped = (...args: A): Promise<R> => run(args, plain)
  const withOptions = (options: WrapCallOptions): ((...args: A) => Promise<R>) => {
    const per = resolveCallOptions(options, resolved.rateLimit, 'with', ['signal'])
    const signal = signalOf((options as WrapCallOptions | undefined)?.signal)
    return (...args: A) => run(args, per, signal)
  }
  const commands = instance.cacheCommands
  const cache: WrapCache<A> = {
    delete: async (...args) => commands?.delete([valueCallOf(facts, args, plain, undefined).key]),
    invalidateTag: async (tag) => commands?.invalidateTag(checkTag(tag)),
    clear: async () => commands?.clear(),
  }
  return Object.assign(wrapped, {
    cache,
    with: withOptions,
    stats: () => instance.stats(),
    adjust: (name: string, key: string, delta: number) => instance.adjust(name, key, delta),
    close: () => instance.close(),
  }) as Wrapped<A, R>
}

/** What `wrap` settled once, from which each call is built. */
interface WrapFacts<A extends unknown[]> {
  readonly name: string
  readonly resolved: ResolvedOptions
  readonly keyOf: ((...args: A) => string) | undefined
  readonly idempotencyKeyOf: ((...args: A) => string | undefined) | undefined
}

/** The call of `args`, with this call's options over the wrap's. */
function valueCallOf<A extends unknown[]>(
  { name, resolved, keyOf, idempotencyKeyOf }: WrapFacts<A>,
  args: A,
  per: ResolvedCallOptions,
  signal: AbortSignal | undefined,
): Call {
  const key = per.key ?? (keyOf === undefined ? canonicalJson(args) : keyOf(...args))
  if (typeof key !== 'string')
    throw new TypeError(`key(...) must return a string, got ${show(key)}`)
  const own = per.idempotencyKey === undefined ? idempotencyKeyOf?.(...args) : undefined
  const deadline = per.deadline ?? (resolved.retry ? resolved.retry.deadline : undefined)
  const facts: ValueCallInit = {
    kind: 'value',
    key: valueKey(name, key),
    name,
    args,
    signal,
    resendable: true,
    retries: per.retry,
    ttl: per.ttl,
    tags: per.tags,
    timeout: per.timeout ?? resolved.timeout,
    deadline: deadline === undefined ? undefined : resolved.clock.now() + deadline,
    idempotencyKey:
      own === undefined ? per.idempotencyKey : checkIdempotencyKey('idempotencyKey(...)', own),
    unknownOutcome: per.unknownOutcome,
    cost: per.cost,
  }
  const details = callDetails(facts)
  // A call the cache may not take is not merged with another either: its answer is its own.
  const allowed = (resolved.cache ? resolved.cache.cacheable : undefined)?.(details) ?? true
  return createCall(facts, {
    details,
    cacheable: resolved.cache !== false && per.cache && allowed,
    coalescible: resolved.coalesce && per.coalesce && allowed,
  })
}

/** A copy, so that one caller mutating its result never changes another's or the cache's. */
function copyOf(value: unknown): unknown {
  // Values that cannot be cloned (streams, functions) are neither stored nor copied.
  return (cloneValue(value) ?? { value }).value
}

function signalOf(value: unknown): AbortSignal | undefined {
  if (value === undefined) return undefined
  // By shape, not `instanceof`: a signal from another realm or polyfill is still a signal.
  const s = value as Partial<AbortSignal> | null
  if (
    typeof s !== 'object' ||
    s === null ||
    typeof s.aborted !== 'boolean' ||
    typeof s.addEventListener !== 'function' ||
    typeof s.throwIfAborted !== 'function'
  ) {
    throw new TypeError(`with.signal must be an AbortSignal, got ${show(value)}`)
  }
  return value as AbortSignal
}

/**
 * The call's outcome, or `signal.reason` as soon as it aborts. The stages end their own waits
 * on the signal too; this also covers the function's run, which breakwater cannot stop. The
 * abandoned run goes on, and its failure is handled here, never left unhandled.
 */
function abandonable<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return work
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason)
    if (signal.aborted) onAbort()
    signal.addEventListener('abort', onAbort, { once: true })
    void work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort))
  })
}
