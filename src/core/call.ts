/**
 * One call as every stage sees it: `HttpCall` from `createFetch`, `ValueCall` from `wrap`, both
 * built by `createCall`, with one flag per meaning.
 */

/** What a breaker scope function, a `retryOn` hook and events may know of a call. */
export interface CallInfo {
  /** Upper-case HTTP method; `'CALL'` for a wrapped function. */
  readonly method: string
  /** Absolute URL; `''` for a wrapped function. */
  readonly url: string
  /** `scheme://host[:port]`, or the wrapped function's name. */
  readonly origin: string
}

/**
 * What every user hook may read of a call (`cache.cacheable`, `cache.storable`, a bucket's
 * `cost` and `key`, `concurrency.key`, `breaker.scope`): one object, built by `callDetails`.
 */
export interface CallDetails extends CallInfo {
  /** Request headers (fetch only). */
  readonly headers: Headers | undefined
  /** Request body (fetch only). */
  readonly body: Uint8Array | undefined
  /** Arguments (wrap only). */
  readonly args: readonly unknown[] | undefined
  /** The pool target the call is sent to (its `name`); undefined without a pool. */
  readonly via?: string | undefined
}

interface CallBase {
  /** Canonical key (hex sha-256), credentials folded in as a hash: cache and coalescing key. */
  readonly key: string
  readonly method: string
  readonly url: string
  /** The default breaker scope and bucket key: `CallInfo.origin`. */
  readonly origin: string
  /** What events may show of the target: origin and path, never the query or credentials. */
  readonly target: string
  /** What user hooks are given of this call. */
  readonly details: CallDetails
  /** Aborts the call. Stages replace it with narrower signals on the way down. */
  readonly signal: AbortSignal | undefined
  /** The cache may serve and store this call. */
  readonly cacheable: boolean
  /** Concurrent identical calls may share one upstream call. */
  readonly coalescible: boolean
  /** The answer's body is read whole before it goes on: it may be stored or shared. */
  readonly buffered: boolean
  /** The call may be sent again after it may have reached the server (idempotent, or keyed). */
  readonly resendable: boolean
  /** Failed attempts may be retried at all; `false` (per call `retry: false`): one attempt. */
  readonly retries: boolean
  /** Per-call freshness in ms, overriding `cache.ttl` and the response's Cache-Control. */
  readonly ttl: number | undefined
  /**
   * The cache follows RFC 9111 for this call (a safe method without a body, with
   * `cache.respectCacheControl`): variants by `Vary`, request directives, revalidation.
   */
  readonly httpCaching: boolean
  /**
   * The key the cache stores under: for calls under HTTP caching (and unsafe calls, which
   * invalidate it) the URL and credentials, every variant kept apart inside; else `key`.
   */
  readonly storeKey: string
  /** The Fetch standard's `init.cache` mode. */
  readonly cacheMode: CacheMode
  /** Labels the stored answer carries, for `cache.invalidateTag`. */
  readonly tags: readonly string[]
  /** Per-attempt timeout in ms (0: none). */
  readonly timeout: number
  /** Absolute time (clock ms) after which no new wait or attempt starts; undefined: none. */
  readonly deadline: number | undefined
  /** The caller's idempotency key (per-call option, the header, or wrap's `idempotencyKey`). */
  readonly idempotencyKey: string | undefined
  /** The call's own `unknownOutcome`, over the instance's `idempotency.unknownOutcome`. */
  readonly unknownOutcome: 'resend' | 'fail' | undefined
  /**
   * Awaited by the transport right before each attempt leaves; set by the idempotency stage on a
   * recorded call, whose record it marks sent at the first attempt only. Rejects only when the
   * call must not be sent (another call took its record over).
   */
  readonly beforeSend: (() => Promise<void>) | undefined
  /** Per-call cost: for every bucket, or by bucket name; overrides the buckets' own cost. */
  readonly cost: number | Readonly<Record<string, number>> | undefined
  /**
   * The pool target this call goes to; its breaker scope and its rate-limit partitions are the
   * target's own. Undefined without a pool.
   */
  readonly via: string | undefined
}

/** A request through `createFetch`. */
export interface HttpCall extends CallBase {
  readonly kind: 'http'
  readonly headers: Headers
  /** Request body, buffered so that every attempt can send it again. */
  readonly body: Uint8Array | undefined
}

/** A call of a wrapped function. */
export interface ValueCall extends CallBase {
  readonly kind: 'value'
  readonly args: readonly unknown[]
  /** The function a pool target calls instead of the wrapped one; undefined: the wrapped one. */
  readonly fn: ((...args: never[]) => unknown) | undefined
}

export type Call = HttpCall | ValueCall

/** The Fetch standard's request cache modes (`init.cache`). */
export type CacheMode =
  | 'default'
  | 'no-store'
  | 'reload'
  | 'no-cache'
  | 'force-cache'
  | 'only-if-cached'

/** What `createCall` needs; every flag not given is off, `retries` on, `timeout` 0. */
interface CallInitBase {
  readonly key: string
  readonly signal?: AbortSignal | undefined
  readonly cacheable?: boolean | undefined
  readonly coalescible?: boolean | undefined
  readonly resendable?: boolean | undefined
  readonly retries?: boolean | undefined
  readonly ttl?: number | undefined
  readonly httpCaching?: boolean | undefined
  readonly storeKey?: string | undefined
  readonly cacheMode?: CacheMode | undefined
  readonly tags?: readonly string[] | undefined
  readonly timeout?: number | undefined
  readonly deadline?: number | undefined
  readonly idempotencyKey?: string | undefined
  readonly unknownOutcome?: 'resend' | 'fail' | undefined
  readonly cost?: CallBase['cost'] | undefined
  /** The details already built for a hook that decided a flag; built here when absent. */
  readonly details?: CallDetails | undefined
}

export interface HttpCallInit extends CallInitBase {
  readonly kind: 'http'
  readonly method: string
  /** The URL as sent; `origin` and `target` are read from it unless given. */
  readonly url: string
  readonly origin?: string | undefined
  readonly target?: string | undefined
  readonly headers?: Headers | undefined
  readonly body?: Uint8Array | undefined
}

export interface ValueCallInit extends CallInitBase {
  readonly kind: 'value'
  /** The wrapped function's name: origin and target of the call. */
  readonly name: string
  readonly args: readonly unknown[]
}

export type CallInit = HttpCallInit | ValueCallInit

/** The one place a call's `CallDetails` are built: what every user hook gets to read. */
export function callDetails(init: CallInit): CallDetails {
  if (init.kind === 'value') {
    return {
      method: 'CALL',
      url: '',
      origin: init.name,
      headers: undefined,
      body: undefined,
      args: init.args,
      via: undefined,
    }
  }
  return {
    method: init.method,
    url: init.url,
    origin: init.origin ?? new URL(init.url).origin,
    headers: init.headers,
    body: init.body,
    args: undefined,
    via: undefined,
  }
}

/** What a front door decided about a call after its hooks had read the details. */
export interface CallDecisions {
  readonly details?: CallDetails | undefined
  readonly cacheable?: boolean | undefined
  readonly coalescible?: boolean | undefined
}

/**
 * Builds a call, for both front doors, the replay and the tests; `decided` overrides what
 * `init` says. One object literal of one shape for both kinds: V8 copies an object spread
 * followed by more properties on a slow path (about 4 µs on Node 20), more than a cache hit.
 */
export function createCall(init: CallInit, decided: CallDecisions = init): Call {
  const details = decided.details ?? init.details ?? callDetails(init)
  const cacheable = (decided.cacheable ?? init.cacheable) === true
  const coalescible = (decided.coalescible ?? init.coalescible) === true
  const http = init.kind === 'http' ? init : undefined
  return {
    kind: init.kind,
    key: init.key,
    method: details.method,
    url: details.url,
    origin: details.origin,
    target: http === undefined ? details.origin : (http.target ?? targetOf(new URL(http.url))),
    details,
    headers: http === undefined ? undefined : (http.headers ?? new Headers()),
    body: http?.body,
    args: init.kind === 'value' ? init.args : undefined,
    signal: init.signal,
    cacheable,
    coalescible,
    buffered: cacheable || coalescible,
    resendable: init.resendable === true,
    retries: init.retries !== false,
    ttl: init.ttl,
    httpCaching: init.httpCaching === true,
    storeKey: init.storeKey ?? init.key,
    cacheMode: init.cacheMode ?? 'default',
    tags: init.tags ?? noTags,
    timeout: init.timeout ?? 0,
    deadline: init.deadline,
    idempotencyKey: init.idempotencyKey,
    unknownOutcome: init.unknownOutcome,
    beforeSend: undefined,
    cost: init.cost,
    via: undefined,
    fn: undefined,
  } as Call
}

const noTags: readonly string[] = []

/** A call's `target`: what events may show of its URL, origin and path. */
export function targetOf(url: URL): string {
  return `${url.origin}${url.pathname}`
}
