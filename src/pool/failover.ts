/**
 * Whether a target's failure moves a call on to the next target, and for how long the target
 * then cools down: pure, no I/O; `now` comes from the caller.
 */
import { breakwaterErrorOf, isCircuitOpenError, isRateLimitError } from '../core/errors.js'
import type { Outcome } from '../core/outcome.js'
import { maxTimerMs } from '../core/validate.js'
import { headerOf } from '../http/headers.js'
import { classifyError } from '../retry/classify.js'
import { retryAfterDelay } from '../retry/retry-after.js'
import type { ResolvedFailover } from './options.js'

/** How one target ended a call. */
export type Ending =
  | { readonly ok: true; readonly outcome: Outcome }
  | { readonly ok: false; readonly error: unknown }

/** A failure that moves the call on. */
export interface Failover {
  /** `'status 529'`, `'ECONNRESET'`, `'timeout'`, `'circuitOpen'`, `'rateLimited'`. */
  readonly reason: string
  /** ms the failure itself says the target needs (Retry-After, breaker, budget), if it says. */
  readonly wait: number | undefined
}

/**
 * The failover a target's ending calls for, or `undefined` when the call ends here. A call that
 * may not be sent twice (`resendable` false) moves on only when nothing was sent: a refusal of
 * breakwater's own, or a network error before the request left.
 */
export function failoverOf(
  ending: Ending,
  rules: ResolvedFailover,
  resendable: boolean,
  now: number,
): Failover | undefined {
  if (ending.ok) {
    const { outcome } = ending
    if (outcome.kind === 'value' || !resendable || !rules.statuses.has(outcome.status)) {
      return undefined
    }
    const wait = retryAfterDelay((name) => headerOf(outcome, name.toLowerCase()), now)
    return { reason: `status ${outcome.status}`, wait }
  }
  const { error } = ending
  // Also down a cause chain: a wrapped SDK call whose client sends through a breakwater fetch.
  const own = breakwaterErrorOf(error)
  if (isCircuitOpenError(own) || isRateLimitError(own)) {
    if (!rules.refusals) return undefined
    const reason = isCircuitOpenError(own) ? 'circuitOpen' : 'rateLimited'
    return { reason, wait: Math.min(own.retryAfter, maxTimerMs) }
  }
  const verdict = classifyError(error, rules.statuses)
  if (verdict.status !== undefined) {
    if (!resendable || !rules.statuses.has(verdict.status)) return undefined
    return { reason: verdict.reason, wait: retryAfterDelay(verdict.header, now) }
  }
  // An error with no status and no network code is the function's own: no target cures it.
  if (verdict.code === undefined || !rules.errors) return undefined
  if (!resendable && !verdict.beforeSend) return undefined
  return { reason: verdict.reason, wait: undefined }
}
