/**
 * Whether an answer under HTTP semantics may be stored, and the variant it becomes (RFC 9111
 * §3, §4.2). Pure: the caller passes the times. `http-cache-semantics` decides storability
 * (methods, statuses, `no-store`, `private` and `Authorization` in a shared cache) and the
 * explicit lifetime (`s-maxage`, `max-age`, `Expires` against `Date`); what it gets wrong or
 * leaves out (ages, heuristics, the stale windows, malformed fields) is done here.
 */
import CachePolicy from 'http-cache-semantics'
import type { Call } from '../core/call.js'
import type { HttpOutcome } from '../core/outcome.js'
import { headerOf } from '../http/headers.js'
import { parseHttpDate } from '../http/http-date.js'
import { varyOf } from '../http/vary.js'
import { cacheControlOf, isKeepable, parseCacheControl } from './freshness.js'
import { selectingOf, type Variant } from './variant.js'

/** What the cache's options say about storing answers under HTTP semantics. */
export interface HttpStorePolicy {
  readonly shared: boolean
  /** ms: the heuristic lifetime (`cache.ttl`) of an answer that gives none. */
  readonly heuristicTtl: number
  /** ms, unless the answer's own `stale-while-revalidate` says otherwise. */
  readonly staleWhileRevalidate: number
  /** ms, unless the answer's own `stale-if-error` says otherwise. */
  readonly staleIfError: number
  readonly maxBodyBytes: number
  readonly streams: boolean
}

/** When a request was sent and its answer received, in clock ms. */
export interface Exchange {
  readonly sentAt: number
  readonly receivedAt: number
}

/** ms an answer with a validator is kept past its windows, to be revalidated by a 304. */
export const validatorKeep = 3_600_000

/**
 * RFC 9111 §4.2.2: only these statuses may be given a heuristic lifetime here. Other
 * heuristically cacheable ones (301, 404, 410, …) are stored only with explicit freshness, so
 * that negative caching stays opt-in.
 */
const heuristicStatuses = new Set([200, 203, 204])

/** The statuses `http-cache-semantics` knows; it never stores another. */
const understoodStatuses = new Set([
  200, 203, 204, 300, 301, 302, 303, 307, 308, 404, 405, 410, 414, 501,
])

/** The variant `outcome` becomes, or undefined when it must not be stored. */
export function planVariant(
  call: Call,
  outcome: HttpOutcome,
  policy: HttpStorePolicy,
  exchange: Exchange,
): Variant | undefined {
  if (!isKeepable(outcome, policy.maxBodyBytes, policy.streams)) return undefined
  const vary = varyOf(outcome)
  // RFC 9111 §4.1: `Vary: *` never matches a later request; such an answer is never stored.
  if (vary === '*') return undefined
  const fields = policyFields(outcome)
  const cc = parseCacheControl(fields['cache-control'])
  const explicit =
    (policy.shared && cc.sMaxAge !== undefined) ||
    cc.maxAge !== undefined ||
    fields.expires !== undefined
  const understood = understoodStatuses.has(outcome.status)
  if (
    !understood &&
    (!explicit || /(?:^|[\s,])must-understand(?:$|[\s,=])/.test(fields['cache-control'] ?? ''))
  ) {
    return undefined
  }
  const library = new CachePolicy(
    { url: call.url, method: call.method, headers: requestFields(call) },
    // RFC 9111 §3 lets a cache store any final status that has explicit freshness; the library
    // stores only those it knows, so it judges the others as it would a 200.
    { status: understood ? outcome.status : 200, headers: fields },
    { shared: policy.shared },
  )
  if (!library.storable()) return undefined
  let lifetime = 0
  if (call.ttl !== undefined) lifetime = call.ttl
  // A no-cache answer is stored only to be revalidated before each use (RFC 9111 §5.2.2.4).
  else if (cc.noCache) lifetime = 0
  else if (explicit) lifetime = library.maxAge() * 1000
  else if (heuristicStatuses.has(outcome.status) || cc.public) lifetime = policy.heuristicTtl
  const { receivedAt } = exchange
  const initialAge = initialAgeOf(outcome, exchange)
  const freshUntil = receivedAt + lifetime - initialAge
  const mustRevalidate =
    cc.mustRevalidate ||
    cc.noCache ||
    (policy.shared && (cc.proxyRevalidate || cc.sMaxAge !== undefined))
  const swr = mustRevalidate ? 0 : seconds(cc.staleWhileRevalidate, policy.staleWhileRevalidate)
  const sie = mustRevalidate ? 0 : seconds(cc.staleIfError, policy.staleIfError)
  const times = {
    storedAt: receivedAt,
    freshUntil,
    staleWhileRevalidateUntil: freshUntil + Math.max(0, swr),
    staleIfErrorUntil: freshUntil + Math.max(0, sie),
  }
  const validated = fields.etag !== undefined || fields['last-modified'] !== undefined
  const lastWindow = Math.max(times.staleWhileRevalidateUntil, times.staleIfErrorUntil)
  const keepUntil = validated ? Math.max(lastWindow, freshUntil) + validatorKeep : lastWindow
  if (keepUntil <= receivedAt) return undefined
  return {
    outcome,
    times,
    initialAge,
    requestKey: call.key,
    selecting: selectingOf(call, vary),
    mustRevalidate,
    keepUntil,
    tags: call.tags,
  }
}

const seconds = (directive: number | undefined, fallback: number): number =>
  directive === undefined ? fallback : directive * 1000

/**
 * RFC 9111 §4.2.3: how old the answer was on arrival, in ms: the larger of what its `Date`
 * shows and its `Age` plus the time the request took. An `Age` that is not a whole number is
 * ignored. `Date` counts whole seconds, so the message may have been made up to a second after
 * it says: the apparent age is the least it can be, or an answer fresh for 500 ms would arrive
 * stale half the time.
 */
export function initialAgeOf(outcome: HttpOutcome, exchange: Exchange): number {
  const date = parseHttpDate(headerOf(outcome, 'date'))
  const apparent = date === undefined ? 0 : Math.max(0, exchange.receivedAt - date - 999)
  // A repeated Age (`7200, 0`) counts by its first value, as RFC 9111 §5.1 says for a list.
  const ageField = headerOf(outcome, 'age')?.split(',')[0]?.trim()
  const age = ageField !== undefined && /^\d+$/.test(ageField) ? Number(ageField) * 1000 : 0
  const delay = Math.max(0, exchange.receivedAt - exchange.sentAt)
  return Math.max(apparent, age + delay)
}

/**
 * The answer's fields as `http-cache-semantics` reads them: lower-case names, repeated lines
 * joined, directive names lower-cased (it compares them case-sensitively), and a malformed
 * `Expires` replaced by a date in the past, as RFC 9111 §5.3 says to read it (it would parse
 * it leniently).
 */
function policyFields(outcome: HttpOutcome): Record<string, string> {
  const fields: Record<string, string> = {}
  for (const [name, value] of outcome.headers) {
    if (name === 'set-cookie') continue
    fields[name] = fields[name] === undefined ? value : `${fields[name]}, ${value}`
  }
  const cc = cacheControlOf(outcome)
  if (cc !== undefined) fields['cache-control'] = cc.toLowerCase()
  const expires = fields.expires
  if (expires !== undefined && parseHttpDate(expires) === undefined) {
    fields.expires = 'Thu, 01 Jan 1970 00:00:00 GMT'
  }
  return fields
}

/** The request fields the library reads: credentials for §3.5, `Cache-Control` for `no-store`. */
function requestFields(call: Call): Record<string, string> {
  const fields: Record<string, string> = { host: new URL(call.url).host }
  const headers = call.details.headers
  const authorization = headers?.get('authorization')
  if (authorization !== null && authorization !== undefined) fields.authorization = authorization
  const cc = headers?.get('cache-control')
  if (cc !== null && cc !== undefined) fields['cache-control'] = cc
  return fields
}
