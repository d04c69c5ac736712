/** What one call asks for, built once by a front door and passed down the chain. */
export interface Call {
  /** `'http'` for `createFetch`, `'value'` for `wrap`. */
  readonly kind: 'http' | 'value'
  /** Canonical key (hex sha-256), credentials folded in as a hash: cache and coalescing key. */
  readonly key: string
  /** Upper-case HTTP method; `'CALL'` for a wrapped function. */
  readonly method: string
  /** Absolute URL as sent; `''` for a wrapped function. */
  readonly url: string
  /** `scheme://host[:port]` of the URL, or the wrapped function's name: the default breaker scope. */
  readonly origin: string
  /** What events may show of the target: origin and path, never the query or credentials. */
  readonly target: string
  /** Request headers (http only). */
  readonly headers: Headers | undefined
  /** Request body, buffered so that every attempt can send it again. */
  readonly body: Uint8Array | undefined
  /** Arguments of the wrapped function (value only). */
  readonly args: readonly unknown[] | undefined
  /** Aborts the call. Stages replace it with narrower signals on the way down. */
  readonly signal: AbortSignal | undefined
  /** The cache may serve and store this call. */
  readonly cacheable: boolean
  /** Concurrent identical calls may share one upstream call. */
  readonly coalescible: boolean
  /** Retries are allowed for this call (the method is idempotent, or a key makes it so). */
  readonly retry: boolean
  /** Per-call freshness in ms, overriding `cache.ttl` and the response's Cache-Control. */
  readonly ttl: number | undefined
  /** Per-attempt timeout in ms (0: none). */
  readonly timeout: number
  /** Absolute time (clock ms) after which no new wait or attempt starts; undefined: none. */
  readonly deadline: number | undefined
  /** The caller's idempotency key (per-call option, the header, or wrap's `idempotencyKey`). */
  readonly idempotencyKey: string | undefined
  /** Per-call cost: for every bucket, or by bucket name; overrides the buckets' own cost. */
  readonly cost: number | Readonly<Record<string, number>> | undefined
}
