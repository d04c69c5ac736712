import { createInstance } from './chain.js'
import { callDetails, createCall, type ValueCallInit } from './core/call.js'
import { checkIdempotencyKey } from './core/call-options.js'
import { canonicalJson, valueKey } from './core/key.js'
import type { ValueOutcome } from './core/outcome.js'
import type { Stats } from './core/stats.js'
import { func, isNonEmptyString, show } from './core/validate.js'
import { type BreakwaterOptions, resolveOptions } from './options.js'
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
}

/** The wrapped function, plus its numbers and its shutdown. */
export interface Wrapped<A extends unknown[], R> {
  (...args: A): Promise<R>
  /** What this instance did so far. */
  stats(): Stats
  /**
   * Adds `delta` tokens to rate-limit bucket `name` under partition `key` (negative: a debt
   * that later calls wait out), e.g. to reconcile an estimated cost with the real one.
   */
  adjust(name: string, key: string, delta: number): void
  /** Waits for background refreshes, then releases the store it opened. */
  close(): Promise<void>
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
  const cacheOn = resolved.cache !== false
  const cacheableOf = resolved.cache ? resolved.cache.cacheable : undefined
  const shared = cacheOn || resolved.coalesce
  const deadlineMs = resolved.retry ? resolved.retry.deadline : undefined

  const wrapped = async (...args: A): Promise<R> => {
    if (instance.closed) throw new TypeError(`wrap(${name}) called after close()`)
    instance.context.counters.requests++
    const key = keyOf === undefined ? canonicalJson(args) : keyOf(...args)
    if (typeof key !== 'string')
      throw new TypeError(`key(...) must return a string, got ${show(key)}`)
    const idempotencyKey = idempotencyKeyOf?.(...args)
    const facts: ValueCallInit = {
      kind: 'value',
      key: valueKey(name, key),
      name,
      args,
      resendable: true,
      timeout: resolved.timeout,
      deadline: deadlineMs === undefined ? undefined : resolved.clock.now() + deadlineMs,
      idempotencyKey:
        idempotencyKey === undefined
          ? undefined
          : checkIdempotencyKey('idempotencyKey(...)', idempotencyKey),
    }
    const details = callDetails(facts)
    // A call the cache may not take is not merged with another either: its answer is its own.
    const allowed = cacheableOf?.(details) ?? true
    const call = createCall({
      ...facts,
      details,
      cacheable: cacheOn && allowed,
      coalescible: resolved.coalesce && allowed,
    })
    const outcome = (await instance.run(call)) as ValueOutcome
    return (shared ? copyOf(outcome.value) : outcome.value) as R
  }
  return Object.assign(wrapped, {
    stats: () => instance.stats(),
    adjust: (name: string, key: string, delta: number) => instance.adjust(name, key, delta),
    close: () => instance.close(),
  }) as Wrapped<A, R>
}

/** A copy, so that one caller mutating its result never changes another's or the cache's. */
function copyOf(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value
  try {
    return structuredClone(value)
  } catch {
    // Values that cannot be cloned (streams, functions) are neither stored nor copied.
    return value
  }
}
