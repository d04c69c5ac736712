const brand = Symbol.for('breakwater.error')

export type BreakwaterErrorCode =
  | 'CIRCUIT_OPEN'
  | 'RATE_LIMITED'
  | 'IDEMPOTENCY_CONFLICT'
  | 'IDEMPOTENCY_UNKNOWN_OUTCOME'
  | 'TIMEOUT'
  | 'INVALID_RESPONSE'
  | 'REDIS_UNAVAILABLE'
  | 'BAD_RECORD'

/**
 * The base of every error breakwater raises itself. Checks by `code` or the `isXError` guards
 * survive two installed copies of the package, where `instanceof` does not.
 */
export class BreakwaterError extends Error {
  override name = 'BreakwaterError'
  readonly code: BreakwaterErrorCode
  /** Attempts made before this error ended the call (0 when none was sent). */
  attempts = 0

  constructor(code: BreakwaterErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
    Object.defineProperty(this, brand, { value: true })
  }
}

/** The breaker for this call's scope is open: the call failed fast, nothing was sent. */
export class CircuitOpenError extends BreakwaterError {
  override name = 'CircuitOpenError'
  /** The breaker scope (by default the origin). */
  readonly scope: string
  /** ms until the breaker lets a probe through. */
  readonly retryAfter: number

  constructor(scope: string, retryAfter: number) {
    super('CIRCUIT_OPEN', `circuit open for ${scope}; next probe in ${retryAfter} ms`)
    this.scope = scope
    this.retryAfter = retryAfter
  }
}

/** A rate-limit budget refused the call, or could not admit it within the allowed wait. */
export class RateLimitError extends BreakwaterError {
  override name = 'RateLimitError'
  /** ms after which the budget could admit the call. */
  readonly retryAfter: number

  constructor(message: string, retryAfter: number) {
    super('RATE_LIMITED', message)
    this.retryAfter = retryAfter
  }
}

/** An idempotency key was reused with a different request, or is still in flight. */
export class IdempotencyConflictError extends BreakwaterError {
  override name = 'IdempotencyConflictError'
  constructor(message: string) {
    super('IDEMPOTENCY_CONFLICT', message)
  }
}

/**
 * The call's idempotency record was abandoned: an earlier holder of its key (a process that
 * died, or stalled past its lease) may have sent it and never recorded how it ended. With
 * `idempotency.unknownOutcome: 'fail'` the call throws this instead of sending it again; check
 * the upstream, then resend it with `breakwater: { unknownOutcome: 'resend' }` if it is not
 * there. Nothing was sent.
 */
export class IdempotencyUnknownOutcomeError extends BreakwaterError {
  override name = 'IdempotencyUnknownOutcomeError'
  /** The idempotency key whose earlier call's outcome is unknown. */
  readonly idempotencyKey: string

  constructor(idempotencyKey: string) {
    super(
      'IDEMPOTENCY_UNKNOWN_OUTCOME',
      `idempotency key "${idempotencyKey}" was held by an earlier call whose holder stopped before recording an outcome: that call may have been sent, so this one was not`,
    )
    this.idempotencyKey = idempotencyKey
  }
}

/** An attempt took longer than `timeout`, or the call ran past its `deadline`. */
export class TimeoutError extends BreakwaterError {
  override name = 'TimeoutError'
  /** The limit that was passed, in ms. */
  readonly timeout: number

  constructor(timeout: number, what = 'attempt') {
    super('TIMEOUT', `${what} timed out after ${timeout} ms`)
    this.timeout = timeout
  }
}

/**
 * The upstream answered with a status no `Response` can hold (outside 200–599, e.g. `699`).
 * undici's fetch resolves with it, but breakwater hands every answer out as a `Response`, so the
 * call rejects instead and the body is released unread. Never stored and never retried by
 * default; the breaker does not count it, since the upstream did answer.
 */
export class InvalidResponseError extends BreakwaterError {
  override name = 'InvalidResponseError'
  /** The status as the upstream sent it. */
  readonly status: number
  readonly statusText: string
  /** The response's headers: lower-case names, in order. */
  readonly headers: ReadonlyArray<readonly [name: string, value: string]>

  /** @param target Origin and path of the call, never its query (it may hold a credential). */
  constructor(
    status: number,
    statusText: string,
    headers: ReadonlyArray<readonly [string, string]>,
    target: string,
  ) {
    super(
      'INVALID_RESPONSE',
      `${target} answered with status ${status}, which no Response can hold`,
    )
    this.status = status
    this.statusText = statusText
    this.headers = headers
  }
}

/**
 * An operation that Redis did not answer: it failed on the connection, ran past
 * `redis.timeout`, or was not sent because Redis is marked down. Whatever shares state through
 * Redis falls back to its in-process form on this error, and reports it in `redisFallback`. A
 * reply Redis did send (an `ErrorReply` such as WRONGTYPE) is passed on as it is instead.
 */
export class RedisUnavailableError extends BreakwaterError {
  override name = 'RedisUnavailableError'
  constructor(message: string, options?: { cause?: unknown }) {
    super('REDIS_UNAVAILABLE', message, options)
  }
}

/**
 * A value under an idempotency record's key that breakwater did not write, or a record whose
 * outcome does not read back. It is never served: the key is taken over, and the value reported
 * in a `recordError` event.
 */
export class BadRecordError extends BreakwaterError {
  override name = 'BadRecordError'
  constructor(message: string) {
    super('BAD_RECORD', message)
  }
}

/** True for any error raised by breakwater, from this copy of the package or another. */
export function isBreakwaterError(error: unknown): error is BreakwaterError {
  return typeof error === 'object' && error !== null && brand in error
}

// SDKs wrap what their fetch throws once (Anthropic's and OpenAI's `APIConnectionError`), the AI
// SDK twice (`RetryError` → `APICallError`); 8 levels is room to spare, and bounds a chain that
// a getter keeps growing.
const maxCauseDepth = 8

/**
 * Breakwater's error in whatever was thrown: the error itself, or the first breakwater error
 * down its `cause` chain (at most 8 levels; cycles end the search), or `undefined`. An SDK that
 * uses a breakwater fetch throws its own error class with breakwater's as `cause`; this reads it
 * back in one call.
 *
 * @example
 * catch (e) {
 *   const refusal = breakwaterErrorOf(e)
 *   if (isRateLimitError(refusal)) await setTimeout(refusal.retryAfter)
 * }
 */
export function breakwaterErrorOf(error: unknown): BreakwaterError | undefined {
  const seen = new Set<unknown>()
  let current = error
  for (let depth = 0; depth <= maxCauseDepth; depth++) {
    if (isBreakwaterError(current)) return current
    if (typeof current !== 'object' || current === null || seen.has(current)) return undefined
    seen.add(current)
    try {
      current = (current as { cause?: unknown }).cause
    } catch {
      // A throwing `cause` getter ends the chain; the guard must never throw itself.
      return undefined
    }
  }
  return undefined
}

/**
 * An `isXError` guard. Given breakwater's error (or `undefined`), it narrows it to the class;
 * given anything else (an SDK's error, `unknown` from a `catch`), it answers whether the error
 * breakwater raised, found by `breakwaterErrorOf`, is of the class, without narrowing: the
 * value may be the SDK's error, which has none of the class's fields.
 */
export interface BreakwaterErrorGuard<T extends BreakwaterError> {
  (error: BreakwaterError | null | undefined): error is T
  (error: unknown): boolean
}

function guard<T extends BreakwaterError>(code: BreakwaterErrorCode): BreakwaterErrorGuard<T> {
  return ((error: unknown) => breakwaterErrorOf(error)?.code === code) as BreakwaterErrorGuard<T>
}

/** The breaker was open (the error, or its `cause` chain). */
export const isCircuitOpenError = guard<CircuitOpenError>('CIRCUIT_OPEN')
/** A rate-limit budget refused the call (the error, or its `cause` chain). */
export const isRateLimitError = guard<RateLimitError>('RATE_LIMITED')
/** An idempotency key conflicted (the error, or its `cause` chain). */
export const isIdempotencyConflictError = guard<IdempotencyConflictError>('IDEMPOTENCY_CONFLICT')
/** An earlier call of the key may have been sent (the error, or its `cause` chain). */
export const isIdempotencyUnknownOutcomeError = guard<IdempotencyUnknownOutcomeError>(
  'IDEMPOTENCY_UNKNOWN_OUTCOME',
)
/**
 * An attempt or the call timed out (the error, or its `cause` chain). The Anthropic and OpenAI
 * SDKs drop this error: they throw `APIConnectionTimeoutError` without a `cause`.
 */
export const isTimeoutError = guard<TimeoutError>('TIMEOUT')
/** The upstream's status fits no `Response` (the error, or its `cause` chain). */
export const isInvalidResponseError = guard<InvalidResponseError>('INVALID_RESPONSE')
/** Redis did not answer (the error, or its `cause` chain). */
export const isRedisUnavailableError = guard<RedisUnavailableError>('REDIS_UNAVAILABLE')
/** An idempotency record did not read back (the error, or its `cause` chain). */
export const isBadRecordError = guard<BadRecordError>('BAD_RECORD')
