/**
 * One call's way through breakwater: a chain of stages of one shape, composed once at
 * construction. A part that is turned off is absent from the chain, so a cache hit touches
 * nothing below the cache.
 */

/** A header list as stored: lower-case names, in order; `set-cookie` may repeat. */
export type HeaderPairs = ReadonlyArray<readonly [name: string, value: string]>

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

/** An HTTP response as plain data, so that it can be stored and handed to many callers. */
export interface HttpOutcome {
  readonly kind: 'http'
  readonly status: number
  readonly statusText: string
  readonly headers: HeaderPairs
  /**
   * The complete body, or a live stream when the body is passed through unbuffered (an event
   * stream, or a call nobody shares). A live outcome is never stored or shared.
   */
  readonly body: Uint8Array | ReadableStream<Uint8Array> | null
  /** The final URL of the response. */
  readonly url: string
}

/** What a wrapped function resolved with. */
export interface ValueOutcome {
  readonly kind: 'value'
  readonly value: unknown
}

export type Outcome = HttpOutcome | ValueOutcome

export type Next = (call: Call) => Promise<Outcome>
export type Stage = (call: Call, next: Next) => Promise<Outcome>

/** Chains stages outermost first; `terminal` is the transport. */
export function compose(stages: readonly Stage[], terminal: Next): Next {
  let next = terminal
  for (let i = stages.length - 1; i >= 0; i--) {
    const stage = stages[i] as Stage
    const inner = next
    next = (call) => stage(call, inner)
  }
  return next
}

/** The first value of a header in an outcome's list (names are stored lower-case). */
export function headerOf(outcome: HttpOutcome, name: string): string | undefined {
  for (const [key, value] of outcome.headers) if (key === name) return value
  return undefined
}

/** True when the body is complete bytes (storable, shareable), not a live stream. */
export function isComplete(outcome: Outcome): boolean {
  return outcome.kind === 'value' || !(outcome.body instanceof ReadableStream)
}

/** Releases a live body that will not be read (a retried or discarded attempt). */
export function discard(outcome: Outcome): void {
  if (outcome.kind === 'http' && outcome.body instanceof ReadableStream) {
    outcome.body.cancel().catch(() => {})
  }
}
