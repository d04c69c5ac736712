/**
 * What a stored variant is good for, for one request (RFC 9111 §4.2, §5.2.1; RFC 5861; the
 * Fetch standard's cache modes). Pure: the caller passes `now`.
 */
import type { CacheMode } from '../core/call.js'
import type { CacheControl } from './freshness.js'
import { parseCacheControl } from './freshness.js'
import type { Variant } from './variant.js'

/**
 * `fresh`: serve it. `stale`: serve it stale without going forward (the request's `max-stale`,
 * `force-cache`, `only-if-cached`). `background`: serve it stale and revalidate it once in
 * the background. `validate`: go forward (conditionally when it has a validator), because it
 * is `stale` or because the `request` asked; `fallback` when `stale-if-error` still covers it.
 * `refuse`: the request said `only-if-cached` and nothing usable is stored.
 */
export type Reuse =
  | { readonly kind: 'fresh' | 'stale' | 'background' | 'refuse' }
  | {
      readonly kind: 'validate'
      readonly reason: 'stale' | 'request'
      readonly fallback: boolean
    }

/** What the cache reads of a request: its directives, and whether it is conditional itself. */
export interface RequestFacts {
  readonly directives: CacheControl
  readonly conditional: boolean
}

const conditionalFields = new Set([
  'if-none-match',
  'if-modified-since',
  'if-match',
  'if-unmodified-since',
  'if-range',
])

/**
 * One walk over the request's headers (each `Headers#get` validates its argument, which a hit
 * would pay several times). `Pragma: no-cache` counts only without `Cache-Control`.
 */
export function readRequest(headers: Headers | undefined): RequestFacts {
  let cacheControl: string | undefined
  let pragma: string | undefined
  let conditional = false
  if (headers !== undefined) {
    for (const [name, value] of headers) {
      if (name === 'cache-control') cacheControl = value
      else if (name === 'pragma') pragma = value
      else if (conditionalFields.has(name)) conditional = true
    }
  }
  const cc = parseCacheControl(cacheControl)
  if (cacheControl === undefined && pragma?.toLowerCase().includes('no-cache') === true) {
    return { directives: { ...cc, noCache: true }, conditional }
  }
  return { directives: cc, conditional }
}

/** ms the variant has been old at `now` (its `Age` when served, in ms). */
export const ageOf = (variant: Variant, now: number): number =>
  variant.initialAge + Math.max(0, now - variant.times.storedAt)

/** How the request may use the stored variant at `now`. */
export function reuseOf(
  variant: Variant,
  request: CacheControl,
  mode: CacheMode,
  now: number,
): Reuse {
  const { times } = variant
  const remaining = times.freshUntil - now
  // The Fetch standard: these two take any match, however stale.
  if (mode === 'force-cache' || mode === 'only-if-cached') {
    return { kind: remaining > 0 ? 'fresh' : 'stale' }
  }
  const decided = decide(variant, request, mode, now, remaining)
  return request.onlyIfCached && decided.kind === 'validate' ? { kind: 'refuse' } : decided
}

function decide(
  variant: Variant,
  request: CacheControl,
  mode: CacheMode,
  now: number,
  remaining: number,
): Reuse {
  const fallback = now < variant.times.staleIfErrorUntil
  const asked = { kind: 'validate', reason: 'request', fallback } as const
  if (mode === 'no-cache' || request.noCache) return asked
  if (request.maxAge !== undefined && ageOf(variant, now) > request.maxAge * 1000) return asked
  if (request.minFresh !== undefined && remaining < request.minFresh * 1000) return asked
  if (remaining > 0) return { kind: 'fresh' }
  if (!variant.mustRevalidate && request.maxStale !== undefined) {
    if (-remaining <= request.maxStale * 1000) return { kind: 'stale' }
  }
  if (now < variant.times.staleWhileRevalidateUntil) return { kind: 'background' }
  return { kind: 'validate', reason: 'stale', fallback }
}
