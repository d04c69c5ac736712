import {
  type CircuitOpenError,
  isCircuitOpenError,
  isIdempotencyConflictError,
  isIdempotencyUnknownOutcomeError,
  isRateLimitError,
  type RateLimitError,
} from '../core/errors.js'
import { retryAfterDelay } from '../retry/retry-after.js'

/**
 * What becomes of a job after one run: pure, `now` comes from the caller. A pause puts the job
 * off without spending an attempt (a server or a bucket asked for time, the job did nothing
 * wrong); a failure spends one and waits out the backoff; dead goes to the dead-letter list.
 */
export type Verdict =
  | { readonly kind: 'pause'; readonly delay: number; readonly reason: string }
  | { readonly kind: 'fail'; readonly reason: string }
  | { readonly kind: 'dead'; readonly reason: string }

/** Thrown by a job's run to say what becomes of it; the backends read it. */
export class JobVerdictError extends Error {
  override name = 'JobVerdictError'
  readonly verdict: Verdict
  constructor(verdict: Verdict, options?: { cause?: unknown }) {
    super(verdict.reason, options)
    this.verdict = verdict
  }
}

/** How a job whose call's outcome is unknown is named in the dead-letter list. */
export const unknownOutcomeReason =
  'outcome unknown: its call was sent by a worker that died before recording how it ended; check the upstream, then retry the job to send it again'

// Statuses a later attempt may well turn around; every other 4xx will answer the same again.
const transient = new Set([408, 409, 425, 429])

/** The verdict on an HTTP answer that was not a success (status ≥ 400). */
export function httpVerdict(
  status: number,
  header: (name: string) => string | undefined,
  now: number,
): Verdict {
  const reason = `upstream answered ${status}`
  const retryable = status >= 500 || transient.has(status)
  if (!retryable) return { kind: 'dead', reason }
  const wait = retryAfterDelay(header, now)
  if ((status === 429 || status === 503) && wait !== undefined) {
    return { kind: 'pause', delay: Math.ceil(wait), reason: `${reason}, Retry-After ${wait} ms` }
  }
  return { kind: 'fail', reason }
}

/** The verdict on what a run threw: breakwater's own errors, or an error with a `status`. */
export function errorVerdict(error: unknown, now: number): Verdict {
  const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error)
  if (isIdempotencyConflictError(error)) return { kind: 'dead', reason }
  if (isIdempotencyUnknownOutcomeError(error)) {
    return { kind: 'dead', reason: `${unknownOutcomeReason} (${reason})` }
  }
  if (isRateLimitError(error) || isCircuitOpenError(error)) {
    const { retryAfter, message } = error as RateLimitError | CircuitOpenError
    // A bucket the call can never fit (its cost above the capacity) is quota exhausted for good.
    if (!Number.isFinite(retryAfter) || message.includes('can never admit')) {
      return { kind: 'dead', reason }
    }
    return { kind: 'pause', delay: Math.max(1, Math.ceil(retryAfter)), reason }
  }
  const status = statusOf(error)
  if (status !== undefined && status >= 400) {
    const verdict = httpVerdict(status, headerOf(error), now)
    return { ...verdict, reason }
  }
  // A request that cannot be built (a bad header) fails the same way every time.
  if (error instanceof TypeError && !isNetworkTypeError(error)) return { kind: 'dead', reason }
  return { kind: 'fail', reason }
}

function statusOf(error: unknown): number | undefined {
  for (let e = error, depth = 0; typeof e === 'object' && e !== null && depth < 3; depth++) {
    const { status, statusCode } = e as { status?: unknown; statusCode?: unknown }
    const value = typeof status === 'number' ? status : statusCode
    if (typeof value === 'number' && Number.isInteger(value)) return value
    e = (e as { cause?: unknown }).cause
  }
  return undefined
}

function headerOf(error: unknown): (name: string) => string | undefined {
  const headers = (error as { headers?: unknown }).headers
  return (name) => {
    if (headers instanceof Headers) return headers.get(name) ?? undefined
    if (typeof headers !== 'object' || headers === null) return undefined
    const value = (headers as Record<string, unknown>)[name]
    return typeof value === 'string' ? value : undefined
  }
}

// undici's `fetch failed` is a TypeError with a cause: the network, worth another attempt.
function isNetworkTypeError(error: TypeError): boolean {
  return error.message === 'fetch failed' || error.cause !== undefined
}

/** A verdict, or the worker's own shutdown: the job goes back to wait, no attempt spent. */
export type Step = Verdict | { readonly kind: 'handBack'; readonly reason: string }

/**
 * What a backend does after a run threw: hand it back if the worker is shutting down; else the
 * run's verdict, a pause turning into a failed attempt once the job has paused `maxPauses` times
 * (a server that always says "later" must not hold a job for ever).
 */
export function stepOf(
  error: unknown,
  signal: AbortSignal,
  pauses: number,
  maxPauses: number,
  now: number,
): Step {
  if (signal.aborted) return { kind: 'handBack', reason: 'the worker shut down mid-run' }
  const verdict = error instanceof JobVerdictError ? error.verdict : errorVerdict(error, now)
  if (verdict.kind === 'pause' && pauses >= maxPauses) {
    return { kind: 'fail', reason: `${verdict.reason} (paused ${pauses} times: maxPauses)` }
  }
  return verdict
}
