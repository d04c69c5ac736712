/**
 * Conditional requests (RFC 9110 §13, RFC 9111 §4.3): the validators the cache sends to
 * revalidate a variant, how a `304` updates it, and how the cache answers a caller's own
 * conditional request from a stored answer. Pure.
 */
import type { HeaderPairs, HttpOutcome } from '../core/outcome.js'
import { headerOf } from '../http/headers.js'
import { parseHttpDate } from '../http/http-date.js'
import { withoutHopByHop } from './cache-status.js'

const conditionalFields = [
  'if-none-match',
  'if-modified-since',
  'if-match',
  'if-unmodified-since',
  'if-range',
]

/** True when the caller's request is conditional itself: then the cache adds no validator. */
export function isConditional(headers: Headers): boolean {
  return conditionalFields.some((name) => headers.has(name))
}

/**
 * The caller's headers with the stored answer's validators (`If-None-Match` from its ETag,
 * `If-Modified-Since` from its Last-Modified), or undefined when it has none.
 */
export function validatingHeaders(headers: Headers, stored: HttpOutcome): Headers | undefined {
  const etag = headerOf(stored, 'etag')
  const lastModified = headerOf(stored, 'last-modified')
  if (etag === undefined && lastModified === undefined) return undefined
  const sent = new Headers(headers)
  if (etag !== undefined) sent.set('if-none-match', etag)
  if (lastModified !== undefined) sent.set('if-modified-since', lastModified)
  return sent
}

/** Fields a 304 never changes in the stored answer (RFC 9111 §3.2): they describe its body. */
const bodyFields = new Set(['content-length', 'content-encoding', 'content-range'])

const opaque = (etag: string): string => etag.trim().replace(/^W\//, '')

/**
 * The stored answer updated by a `304`: each field the 304 carries replaces the stored one,
 * new ones are added (RFC 9111 §3.2), the body stays. Undefined when the 304's ETag names
 * another representation than the stored one (RFC 9111 §4.3.4).
 */
export function mergeNotModified(
  stored: HttpOutcome,
  notModified: HttpOutcome,
): HttpOutcome | undefined {
  const sentEtag = headerOf(notModified, 'etag')
  const storedEtag = headerOf(stored, 'etag')
  if (
    sentEtag !== undefined &&
    storedEtag !== undefined &&
    opaque(sentEtag) !== opaque(storedEtag)
  ) {
    return undefined
  }
  const update = withoutHopByHop(notModified.headers).filter(([name]) => !bodyFields.has(name))
  // The stored Age described the old message; the 304 is a new one, and carries its own if any.
  const replaced = new Set(['age', ...update.map(([name]) => name)])
  const headers: HeaderPairs = [
    ...stored.headers.filter(([name]) => !replaced.has(name)),
    ...update,
  ]
  return { ...stored, headers }
}

/**
 * The `304` the cache answers a caller's conditional GET or HEAD with when the stored answer
 * satisfies it (RFC 9110 §13.1.2, §13.1.3: `If-None-Match` first, by weak comparison), or
 * undefined when the stored answer is to be sent whole.
 */
export function notModifiedFor(headers: Headers, stored: HttpOutcome): HttpOutcome | undefined {
  if (stored.status !== 200) return undefined
  const inm = headers.get('if-none-match')
  if (inm !== null) {
    const etag = headerOf(stored, 'etag')
    if (etag === undefined) return undefined
    const tags = inm.split(',').map((tag) => tag.trim())
    if (!tags.includes('*') && !tags.some((tag) => opaque(tag) === opaque(etag))) return undefined
    return notModified(stored)
  }
  const since = parseHttpDate(headers.get('if-modified-since') ?? undefined)
  const changed = parseHttpDate(headerOf(stored, 'last-modified') ?? headerOf(stored, 'date'))
  if (since === undefined || changed === undefined || changed > since) return undefined
  return notModified(stored)
}

function notModified(stored: HttpOutcome): HttpOutcome {
  const headers = stored.headers.filter(
    ([name]) => !bodyFields.has(name) && name !== 'content-type' && name !== 'transfer-encoding',
  )
  return { ...stored, status: 304, statusText: 'Not Modified', headers, body: null }
}
