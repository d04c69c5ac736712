import {
  type CacheMode,
  type Call,
  type CallDetails,
  callDetails,
  createCall,
  type HttpCallInit,
  targetOf,
} from './core/call.js'
import {
  type CallOptions,
  type ResolvedCallOptions,
  resolveCallOptions,
} from './core/call-options.js'
import { httpKey, urlStoreKey } from './core/key.js'
import { show } from './core/validate.js'
import type { ResolvedOptions } from './options.js'

/**
 * `RequestInit` plus breakwater's options for this one call, and the Fetch standard's `cache`
 * mode, which Node's own `RequestInit` type leaves out.
 */
export type BreakwaterRequestInit = RequestInit & { breakwater?: CallOptions; cache?: CacheMode }

const idempotentMethods = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE'])
const safeMethods = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE'])

/**
 * The call `fetch(input, init)` asks for, with the fetch front door's rules for its flags: the
 * cache takes `cache.methods` unless the request says `no-store` or the `cache.cacheable` hook
 * refuses; safe methods and cacheable calls may be merged, event streams only when the cache
 * may store them; idempotent methods and keyed calls may be resent.
 */
export async function httpCallOf(
  options: ResolvedOptions,
  now: number,
  input: string | URL | Request,
  init: BreakwaterRequestInit | undefined,
): Promise<Call> {
  const per = resolveCallOptions(init?.breakwater, options.rateLimit)
  const request = typeof input === 'string' || input instanceof URL ? undefined : input
  const url = new URL(request === undefined ? String(input) : request.url)
  const method = (init?.method ?? request?.method ?? 'GET').toUpperCase()
  const headers = new Headers(init?.headers ?? request?.headers)
  const signal = init?.signal ?? request?.signal ?? undefined
  signal?.throwIfAborted()
  const body = await bodyOf(init, request, method, headers)
  const idempotencyHeader = options.idempotency ? options.idempotency.header : 'idempotency-key'
  const idempotencyKey = per.idempotencyKey ?? headers.get(idempotencyHeader) ?? undefined
  const deadlineMs = per.deadline ?? (options.retry ? options.retry.deadline : undefined)
  const keyHeaders = options.cache ? options.cache.keyHeaders : []
  const key = httpKey({ method, url, headers, body, keyHeaders, custom: per.key })
  const details = callDetails({ kind: 'http', key, method, url: url.href, headers, body })
  const flags = cacheFlags(options, per, details, url, key, init?.cache ?? request?.cache)
  const facts: HttpCallInit = {
    kind: 'http',
    key,
    method,
    url: url.href,
    origin: url.origin,
    target: targetOf(url),
    headers,
    body,
    signal,
    resendable: idempotentMethods.has(method) || idempotencyKey !== undefined,
    retries: per.retry,
    ttl: per.ttl,
    httpCaching: flags.httpCaching,
    storeKey: flags.storeKey,
    cacheMode: flags.cacheMode,
    tags: per.tags,
    timeout: per.timeout ?? options.timeout,
    deadline: deadlineMs === undefined ? undefined : now + deadlineMs,
    idempotencyKey,
    unknownOutcome: per.unknownOutcome,
    cost: per.cost,
  }
  return createCall(facts, { details, cacheable: flags.cacheable, coalescible: flags.coalescible })
}

interface CacheFlags {
  readonly cacheable: boolean
  readonly coalescible: boolean
  readonly httpCaching: boolean
  readonly storeKey: string
  readonly cacheMode: CacheMode
}

/** What the cache and the coalescer may do with the call, and the key the cache stores under. */
function cacheFlags(
  options: ResolvedOptions,
  per: ResolvedCallOptions,
  details: CallDetails,
  url: URL,
  key: string,
  mode: unknown,
): CacheFlags {
  const { method } = details
  const headers = details.headers as Headers
  const eventStream = headers.get('accept')?.includes('text/event-stream') === true
  const cacheMode = cacheModeOf(mode)
  const noStore =
    cacheMode === 'no-store' || headers.get('cache-control')?.includes('no-store') === true
  const cache = options.cache
  const cacheable =
    cache !== false &&
    per.cache &&
    cache.methods.has(method) &&
    (!eventStream || cache.streams === true) &&
    !noStore &&
    (cache.cacheable?.(details) ?? true)
  // With `cache.streams`, an event stream the cache may store is also one flight may share.
  const coalescible =
    options.coalesce &&
    per.coalesce &&
    (safeMethods.has(method) || cacheable) &&
    (!eventStream || cacheable)
  const safe = safeMethods.has(method)
  // An event stream (stored only with `cache.streams`, once read whole) keeps declared caching.
  const httpCaching =
    cacheable && cache.respectCacheControl && safe && details.body === undefined && !eventStream
  // An unsafe call invalidates what is stored for its URL (RFC 9111 §4.4), unless it was
  // declared cacheable itself (an LLM POST is a read).
  const invalidates = cache !== false && cache.respectCacheControl && !safe && !cacheable
  const storeKey =
    (httpCaching && per.key === undefined) || invalidates ? urlStoreKey(url, headers) : key
  return { cacheable, coalescible, httpCaching, storeKey, cacheMode }
}

const cacheModes: ReadonlySet<string> = new Set<CacheMode>([
  'default',
  'no-store',
  'reload',
  'no-cache',
  'force-cache',
  'only-if-cached',
])

/** `init.cache` as the Fetch standard defines it; another value throws, as fetch does. */
function cacheModeOf(value: unknown): CacheMode {
  if (value === undefined) return 'default'
  if (typeof value !== 'string' || !cacheModes.has(value)) {
    throw new TypeError(
      `init.cache must be one of ${[...cacheModes].join(', ')}, got ${show(value)}`,
    )
  }
  return value as CacheMode
}

/** Buffers the request body once, so that every attempt can send it and the key can hash it. */
async function bodyOf(
  init: BreakwaterRequestInit | undefined,
  request: Request | undefined,
  method: string,
  headers: Headers,
): Promise<Uint8Array | undefined> {
  const body = init?.body ?? undefined
  if (body === undefined || body === null) {
    if (request?.body == null) return undefined
    return new Uint8Array(await request.clone().arrayBuffer())
  }
  if (typeof body === 'string') return Buffer.from(body)
  if (body instanceof Uint8Array) return body
  if (body instanceof ArrayBuffer) return new Uint8Array(body)
  if (ArrayBuffer.isView(body)) return new Uint8Array(body.buffer, body.byteOffset, body.byteLength)
  // URLSearchParams, Blob, FormData, streams: let Request encode them and name their type.
  const encoded = new Request('http://localhost/', { method, body, duplex: 'half' } as RequestInit)
  const type = encoded.headers.get('content-type')
  if (type !== null && !headers.has('content-type')) headers.set('content-type', type)
  return new Uint8Array(await encoded.arrayBuffer())
}
