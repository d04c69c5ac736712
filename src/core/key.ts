import { createHash, hash } from 'node:crypto'

/**
 * Request headers that carry a credential. They change who is asking, so they enter the key,
 * but only inside the hash: they are never stored, logged or evented.
 */
export const credentialHeaders: readonly string[] = [
  'authorization',
  'proxy-authorization',
  'x-api-key',
  'api-key',
  'x-goog-api-key',
  'cookie',
]

/** The URL as the key sees it: no fragment, sorted query, default port dropped (by `URL`). */
export function normalizeUrl(url: URL): string {
  const query = url.search.length > 1 ? sortedQuery(url.searchParams) : ''
  return `${url.protocol}//${url.host}${url.pathname}${query}`
}

function sortedQuery(params: URLSearchParams): string {
  const sorted = new URLSearchParams(params)
  sorted.sort()
  return `?${sorted.toString()}`
}

export interface HttpKeyParts {
  readonly method: string
  readonly url: URL
  readonly headers: Headers
  readonly body: Uint8Array | undefined
  /** Headers that change the answer (lower-case). */
  readonly keyHeaders: readonly string[]
  /** A caller's own key, replacing method, URL, headers and body (credentials still count). */
  readonly custom: string | undefined
}

const credentialSet = new Set(credentialHeaders)

/** sha-256 (hex) over method, normalized URL, the headers that change the answer and the body. */
export function httpKey(parts: HttpKeyParts): string {
  // One walk over the headers: Headers#get validates its argument on every call.
  const credentials: string[] = []
  const varying: string[] = []
  for (const [name, value] of parts.headers) {
    if (credentialSet.has(name)) credentials.push(name, value)
    else if (parts.keyHeaders.includes(name)) varying.push(name, value)
  }
  if (parts.custom !== undefined) {
    return hash('sha256', JSON.stringify(['custom', parts.custom, credentials]), 'hex')
  }
  // The JSON array ends unambiguously, so the body bytes after it cannot shift a boundary.
  const head = JSON.stringify([parts.method, normalizeUrl(parts.url), credentials, varying])
  if (parts.body === undefined) return hash('sha256', head, 'hex')
  return createHash('sha256').update(head).update(parts.body).digest('hex')
}

/**
 * sha-256 (hex) over the normalized URL and the credentials only: the key under which the cache
 * keeps every variant of a URL for one set of credentials (RFC 9111 §4.1 picks among them).
 */
export function urlStoreKey(url: URL, headers: Headers): string {
  const credentials: string[] = []
  for (const [name, value] of headers) if (credentialSet.has(name)) credentials.push(name, value)
  return hash('sha256', JSON.stringify(['URL', normalizeUrl(url), credentials]), 'hex')
}

/** sha-256 (hex) of a wrapped function's name and its call's key string. */
export function valueKey(name: string, key: string): string {
  return createHash('sha256')
    .update(JSON.stringify(['CALL', name, key]))
    .digest('hex')
}

/**
 * JSON with object keys sorted, so that `{a, b}` and `{b, a}` make one key. Throws a TypeError
 * for what cannot be keyed faithfully (cycles, functions, symbols, bigints are written as text).
 */
export function canonicalJson(value: unknown): string {
  return write(value, new Set())
}

function write(value: unknown, seen: Set<object>): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') {
    return JSON.stringify(value)
  }
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : `"${value}"`
  if (typeof value === 'bigint') return `"${value}n"`
  if (value === undefined) return 'null'
  if (typeof value !== 'object') {
    throw new TypeError(`cannot key a ${typeof value} argument; give options.key`)
  }
  if (seen.has(value)) throw new TypeError('cannot key a cyclic argument; give options.key')
  if (value instanceof Date) return JSON.stringify(value.toISOString())
  if (ArrayBuffer.isView(value))
    return JSON.stringify(
      Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64'),
    )
  seen.add(value)
  let out: string
  if (Array.isArray(value)) {
    out = `[${value.map((item) => write(item, seen)).join(',')}]`
  } else if (value instanceof Map) {
    out = write(Object.fromEntries(value), seen)
  } else if (value instanceof Set) {
    out = write([...value], seen)
  } else {
    const record = value as Record<string, unknown>
    const keys = Object.keys(record)
      .filter((k) => record[k] !== undefined)
      .sort()
    out = `{${keys.map((k) => `${JSON.stringify(k)}:${write(record[k], seen)}`).join(',')}}`
  }
  seen.delete(value)
  return out
}
