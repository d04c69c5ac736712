import type { GiveUpCause } from '../core/events.js'

/** What is known, after a retryable failure, about sending the call once more. */
export interface StopInput {
  /** The attempt that just failed, from 1. */
  readonly attempt: number
  readonly maxAttempts: number
  /** The call may be sent twice without harm: its method is idempotent, or it has a key. */
  readonly resendable: boolean
  /** The failure happened before any byte of the request went out. */
  readonly beforeSend: boolean
  /** ms the server asked to wait, when it asked and is listened to. */
  readonly retryAfter: number | undefined
  readonly maxRetryAfter: number
  readonly now: number
  /** ms the next attempt would wait. */
  readonly delay: number
  /** When the call must be over, in the clock's ms. */
  readonly deadline: number | undefined
  /**
   * Spends one retry of the budget and tells whether there was one. Asked last and only when
   * nothing else stops the call, since asking spends: a retry refused for another reason must
   * not use up the budget of the calls that could retry.
   */
  readonly budgetAllows: () => boolean
}

/**
 * Why the retries of a call stop here, or `undefined` when another attempt may go. The limits
 * are tried in the order of the stage's doc (attempts, idempotency, `retry-after`, deadline,
 * budget): the first that applies names the give-up.
 *
 * @example
 * stopReason({ attempt: 3, maxAttempts: 3, ... }) // 'attempts'
 */
export function stopReason(input: StopInput): GiveUpCause | undefined {
  if (input.attempt >= input.maxAttempts) return 'attempts'
  // A failure before sending never reached the server, so even a POST may go again.
  if (!(input.resendable || input.beforeSend)) return 'notIdempotent'
  if (input.retryAfter !== undefined && input.retryAfter > input.maxRetryAfter) return 'retryAfter'
  if (input.deadline !== undefined && input.now + input.delay > input.deadline) return 'deadline'
  if (!input.budgetAllows()) return 'budget'
  return undefined
}
