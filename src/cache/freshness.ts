/**
 * Whether an outcome may be stored, for how long, and what a stored entry is good for at a given
 * moment. Pure: the caller passes `now` (RFC 9111 for freshness, RFC 5861 for the stale windows).
 */
import type { HttpOutcome, Outcome } from '../core/outcome.js'
import { isComplete } from '../core/outcome.js'
import { isEventStream } from '../http/content-type.js'
import { setsCookie } from '../http/headers.js'

/** The response directives breakwater acts on; ages in seconds, as sent. */
export interface CacheControl {
  readonly noStore: boolean
  readonly noCache: boolean
  readonly private: boolean
  readonly public: boolean
  /** Seconds; an invalid value reads as 0 (stale), as RFC 9111 §4.2.1 advises. */
  readonly maxAge: number | undefined
  /** Seconds, for shared caches only; an invalid value reads as 0. */
  readonly sMaxAge: number | undefined
  readonly mustRevalidate: boolean
  readonly proxyRevalidate: boolean
  /** Seconds a stale response may be served while it is revalidated (RFC 5861). */
  readonly staleWhileRevalidate: number | undefined
  /** Seconds a stale response may be served when the upstream fails (RFC 5861). */
  readonly staleIfError: number | undefined
  /** Request: seconds of staleness accepted; `Infinity` for a bare `max-stale`. */
  readonly maxStale: number | undefined
  /** Request: seconds of freshness the answer must still have. */
  readonly minFresh: number | undefined
  /** Request: answer from the cache or not at all (504). */
  readonly onlyIfCached: boolean
}

/** How the cache stage stores one outcome. */
export interface StorePolicy {
  /** ms an entry is fresh: the call's `ttl`, else `cache.ttl`. */
  readonly ttl: number
  /** The ttl came from the call, so it overrides the response's `max-age` and `s-maxage`. */
  readonly callTtl: boolean
  readonly respectCacheControl: boolean
  /** The store is shared between users: `private` is not stored, `s-maxage` applies. */
  readonly shared: boolean
  /** ms past freshness during which the entry is served while it is refreshed. */
  readonly staleWhileRevalidate: number
  /** ms past freshness during which the entry is served when the upstream fails. */
  readonly staleIfError: number
  readonly maxBodyBytes: number
  /** A complete event stream may be stored (`cache.streams`). @default false */
  readonly streams?: boolean
  /** The request carried `Authorization`. @default false */
  readonly authorized?: boolean
}

/** When an entry was stored and until when it is good for what, as absolute clock ms. */
export interface EntryTimes {
  readonly storedAt: number
  readonly freshUntil: number
  readonly staleWhileRevalidateUntil: number
  readonly staleIfErrorUntil: number
}

/** `stale`: may be served while one refresh runs; `staleIfError`: only when the upstream fails. */
export type Freshness = 'fresh' | 'stale' | 'staleIfError' | 'expired'

type Mutable<T> = { -readonly [K in keyof T]: T[K] }

/** RFC 9111 §1.2.2: a cache must treat a delta-seconds it cannot represent as 2^31. */
const maxDeltaSeconds = 2_147_483_648

/**
 * Reads a `Cache-Control` value. Names are case-insensitive, values may be quoted, commas inside
 * quotes do not split; for a repeated age the first one counts (RFC 9111 §4.2.1).
 */
export function parseCacheControl(value: string | undefined): CacheControl {
  const cc: Mutable<CacheControl> = {
    noStore: false,
    noCache: false,
    private: false,
    public: false,
    maxAge: undefined,
    sMaxAge: undefined,
    mustRevalidate: false,
    proxyRevalidate: false,
    staleWhileRevalidate: undefined,
    staleIfError: undefined,
    maxStale: undefined,
    minFresh: undefined,
    onlyIfCached: false,
  }
  if (value === undefined) return cc
  for (const part of splitDirectives(value)) {
    const eq = part.indexOf('=')
    const name = (eq === -1 ? part : part.slice(0, eq)).trim().toLowerCase()
    const arg = eq === -1 ? undefined : unquote(part.slice(eq + 1).trim())
    if (name === 'no-store') cc.noStore = true
    // The field-name forms (`no-cache="x"`, `private="x"`) are read as the whole response:
    // storing a response minus some fields is a refinement not worth its risk.
    else if (name === 'no-cache') cc.noCache = true
    else if (name === 'private') cc.private = true
    else if (name === 'public') cc.public = true
    else if (name === 'max-age') cc.maxAge ??= deltaSeconds(arg)
    else if (name === 's-maxage') cc.sMaxAge ??= deltaSeconds(arg)
    else if (name === 'must-revalidate') cc.mustRevalidate = true
    else if (name === 'proxy-revalidate') cc.proxyRevalidate = true
    else if (name === 'stale-while-revalidate') cc.staleWhileRevalidate ??= deltaSeconds(arg)
    else if (name === 'stale-if-error') cc.staleIfError ??= deltaSeconds(arg)
    else if (name === 'max-stale') {
      cc.maxStale ??= arg === undefined ? Number.POSITIVE_INFINITY : deltaSeconds(arg)
    } else if (name === 'min-fresh') cc.minFresh ??= deltaSeconds(arg)
    else if (name === 'only-if-cached') cc.onlyIfCached = true
  }
  return cc
}

function splitDirectives(value: string): string[] {
  const parts: string[] = []
  let start = 0
  let quoted = false
  for (let i = 0; i < value.length; i++) {
    const c = value[i]
    if (quoted && c === '\\') i++
    else if (c === '"') quoted = !quoted
    else if (c === ',' && !quoted) {
      parts.push(value.slice(start, i))
      start = i + 1
    }
  }
  parts.push(value.slice(start))
  return parts
}

function unquote(arg: string): string {
  if (arg.length < 2 || !arg.startsWith('"') || !arg.endsWith('"')) return arg
  return arg.slice(1, -1).replace(/\\(.)/g, '$1')
}

function deltaSeconds(arg: string | undefined): number {
  if (arg === undefined || !/^\d+$/.test(arg)) return 0
  return Math.min(Number(arg), maxDeltaSeconds)
}

/**
 * The times of a new entry for `outcome`, or undefined when it must not be stored: not a
 * complete 2xx, a body over `maxBodyBytes`, a cookie, an event stream (unless `streams`), or (with
 * `respectCacheControl`) `no-store`, `no-cache`, or, in a shared store, `private` or an answer
 * to `Authorization` without `public`, `s-maxage` or `must-revalidate` (RFC 9111 §3.5).
 */
export function planEntry(
  outcome: Outcome,
  policy: StorePolicy,
  now: number,
): EntryTimes | undefined {
  let { ttl: lifetime, staleWhileRevalidate, staleIfError } = policy
  if (outcome.kind === 'http') {
    if (!isStorableResponse(outcome, policy.maxBodyBytes, policy.streams === true)) {
      return undefined
    }
    if (policy.respectCacheControl) {
      const cc = parseCacheControl(cacheControlOf(outcome))
      if (cc.noStore || cc.noCache || (cc.private && policy.shared)) return undefined
      const sharable = cc.public || cc.sMaxAge !== undefined || cc.mustRevalidate
      if (policy.shared && policy.authorized === true && !sharable) return undefined
      const sMaxAge = policy.shared ? cc.sMaxAge : undefined
      const age = sMaxAge ?? cc.maxAge
      if (!policy.callTtl && age !== undefined) lifetime = age * 1000
      // RFC 9111 §5.2.2: these forbid serving stale; proxy-revalidate and s-maxage bind only
      // shared caches.
      if (cc.mustRevalidate || (policy.shared && (cc.proxyRevalidate || sMaxAge !== undefined))) {
        staleWhileRevalidate = 0
        staleIfError = 0
      }
    }
  }
  if (lifetime <= 0 && staleWhileRevalidate <= 0 && staleIfError <= 0) return undefined
  const freshUntil = now + lifetime
  return {
    storedAt: now,
    freshUntil,
    staleWhileRevalidateUntil: freshUntil + staleWhileRevalidate,
    staleIfErrorUntil: freshUntil + staleIfError,
  }
}

function isStorableResponse(outcome: HttpOutcome, maxBodyBytes: number, streams: boolean): boolean {
  if (outcome.status < 200 || outcome.status > 299) return false
  return isKeepable(outcome, maxBodyBytes, streams)
}

/**
 * What any stored answer must be, whatever its status: complete, within `maxBodyBytes`, setting
 * no cookie, not an event stream (unless `streams`), and not a 206, which holds part of a body
 * that replayed to a call without `Range` would be wrong.
 */
export function isKeepable(outcome: HttpOutcome, maxBodyBytes: number, streams: boolean): boolean {
  if (outcome.status === 206) return false
  if (!isComplete(outcome)) return false
  if (outcome.body instanceof Uint8Array && outcome.body.byteLength > maxBodyBytes) return false
  if (setsCookie(outcome)) return false
  for (const [name, value] of outcome.headers) {
    if (name === 'content-type' && !streams && isEventStream(value)) return false
  }
  return true
}

/** Every `cache-control` line, joined as RFC 9110 §5.3 allows. */
export function cacheControlOf(outcome: HttpOutcome): string | undefined {
  let joined: string | undefined
  for (const [name, value] of outcome.headers) {
    if (name === 'cache-control') joined = joined === undefined ? value : `${joined},${value}`
  }
  return joined
}

/** What an entry is good for at `now`; each boundary belongs to the later state. */
export function freshnessOf(times: EntryTimes, now: number): Freshness {
  if (now < times.freshUntil) return 'fresh'
  if (now < times.staleWhileRevalidateUntil) return 'stale'
  if (now < times.staleIfErrorUntil) return 'staleIfError'
  return 'expired'
}

/** ms the store must keep the entry from `now` on: until its last window closes. */
export function retentionOf(times: EntryTimes, now: number): number {
  // Both windows start at freshUntil and are never negative, so one of them ends last.
  return Math.max(times.staleWhileRevalidateUntil, times.staleIfErrorUntil) - now
}
