import type { Response as UndiciResponse } from 'undici'
import { createInstance } from './chain.js'
import { urlStoreKey } from './core/key.js'
import type { HttpOutcome } from './core/outcome.js'
import type { Stats } from './core/stats.js'
import { checkTag, func } from './core/validate.js'
import { type BreakwaterRequestInit, httpCallOf } from './fetch-call.js'
import { type BreakwaterOptions, resolveOptions } from './options.js'
import { checkPoolFor, type FetchTarget, type PoolOptions } from './pool/options.js'
import { createFetchTransport, type FetchLike } from './transport/fetch-transport.js'
import { createOwnFetch, undici } from './transport/undici.js'

/** `createFetch` options: every breakwater option, plus the fetch to send through. */
export interface CreateFetchOptions extends BreakwaterOptions {
  /**
   * The fetch that sends each attempt. @default undici's `fetch` on an Agent of the
   * instance's own, which `close()` closes
   */
  fetch?: FetchLike
  /**
   * Several targets for the requests (API keys, deployments, regions, base URLs) and fallbacks
   * (another endpoint's `request`).
   */
  pool?: PoolOptions<FetchTarget> | false
}

/** A fetch-compatible function with breakwater in front, plus its numbers and its shutdown. */
export interface BreakwaterFetch {
  (input: string | URL | Request, init?: BreakwaterRequestInit): Promise<Response>
  /** What this instance did so far. */
  stats(): Stats
  /**
   * Adds `delta` tokens to rate-limit bucket `name` under partition `key` (negative: a debt
   * that later calls wait out), e.g. to reconcile an estimated cost with the real one.
   */
  adjust(name: string, key: string, delta: number): void
  /** The cache, commanded: delete, invalidate by tag, clear. */
  readonly cache: FetchCache
  /** Waits for background refreshes, then closes the connections and stores it opened. */
  close(): Promise<void>
}

/**
 * The cache of a `createFetch` instance. With `redis`, what one process deletes is gone for
 * every process. Each command rejects when the store fails; without a cache it does nothing.
 *
 * @example
 * await fetch(url, { breakwater: { tags: ['user:42'] } })
 * await fetch.cache.invalidateTag('user:42')
 */
export interface FetchCache {
  /**
   * Deletes what the cache holds for `fetch(input, init)`: every variant of its URL for the
   * credentials `init` carries (and, for a declared POST, the entry of that very body).
   */
  delete(input: string | URL | Request, init?: BreakwaterRequestInit): Promise<void>
  /** Deletes every answer stored by a call tagged `tag` (`breakwater: { tags: [tag] }`). */
  invalidateTag(tag: string): Promise<void>
  /** Deletes everything in this instance's cache store. */
  clear(): Promise<void>
}

/**
 * A fetch with breakwater in front: cache, coalescing, breaker, retries, timeouts.
 *
 * @example
 * const fetch = createFetch({ cache: { ttl: 5_000 }, retry: { maxAttempts: 3 } })
 * const res = await fetch('https://api.example.com/items', { breakwater: { ttl: 60_000 } })
 */
export function createFetch(options: CreateFetchOptions = {}): BreakwaterFetch {
  const resolved = resolveOptions(options, ['fetch'])
  checkPoolFor(resolved.pool, 'createFetch')
  const given = func<FetchLike>('fetch', options.fetch)
  // Makes nothing before its first call; with a fetch given, it is never called.
  const own = createOwnFetch()
  const send: FetchLike = given ?? own.fetch
  const maxBodyBytes = resolved.cache ? resolved.cache.maxBodyBytes : Number.POSITIVE_INFINITY
  const instance = createInstance(
    resolved,
    (context) =>
      createFetchTransport({
        fetch: send,
        counters: context.counters,
        maxBodyBytes,
      }),
    () => own.close(),
  )
  const breakwaterFetch = async (input: string | URL | Request, init?: BreakwaterRequestInit) => {
    if (instance.closed) throw new TypeError('breakwater fetch used after close()')
    instance.context.counters.requests++
    // Loaded at the first call, before the chain: no stage's decision (a bucket's token, a
    // lease) then waits on the import before it is sent.
    const loaded = undici()
    const { Response } = loaded instanceof Promise ? await loaded : loaded
    const call = await httpCallOf(resolved, instance.context.clock.now(), input, init)
    return toResponse((await instance.run(call)) as HttpOutcome, Response)
  }
  const commands = instance.cacheCommands
  const cache: FetchCache = {
    async delete(input, init) {
      if (commands === undefined) return
      const call = await httpCallOf(resolved, instance.context.clock.now(), input, init)
      const url = new URL(call.url)
      await commands.delete([
        call.key,
        call.storeKey,
        urlStoreKey(url, call.details.headers ?? new Headers()),
      ])
    },
    invalidateTag: async (tag) => commands?.invalidateTag(checkTag(tag)),
    clear: async () => commands?.clear(),
  }
  return Object.assign(breakwaterFetch, {
    cache,
    stats: () => instance.stats(),
    adjust: (name: string, key: string, delta: number) => instance.adjust(name, key, delta),
    close: () => instance.close(),
  }) as BreakwaterFetch
}

/** A fresh Response per caller: two callers never share a body stream. */
export function toResponse(outcome: HttpOutcome, ResponseClass: typeof UndiciResponse): Response {
  const response = new ResponseClass(
    outcome.body as ConstructorParameters<typeof UndiciResponse>[0],
    {
      status: outcome.status,
      statusText: outcome.statusText,
      headers: outcome.headers as [string, string][],
    },
  )
  // A constructed Response has no URL; SDKs and users read it, so give it the upstream one.
  Object.defineProperty(response, 'url', { value: outcome.url })
  return response as unknown as Response
}
