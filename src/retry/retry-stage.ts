import { sleep } from '../clock.js'
import { eventBase, type StageContext } from '../context.js'
import type { GiveUpCause } from '../events.js'
import type { ResolvedRetry, RetryContext } from '../options.js'
import { type Call, discard, type Outcome, type Stage } from '../pipeline.js'
import { backoffDelay } from './backoff.js'
import { RetryBudget } from './budget.js'
import { classifyError, classifyOutcome, type Verdict } from './classify.js'
import { retryAfterDelay } from './retry-after.js'

/** How one attempt ended. */
type Attempt =
  | { readonly ok: true; readonly outcome: Outcome }
  | { readonly ok: false; readonly error: unknown }

/**
 * Sends the call again while another attempt may help: attempt → classify → wait → again.
 *
 * After each attempt, in this order:
 * 1. The caller aborted: reject with its reason at once; nothing more is sent.
 * 2. Success (a status below 400, a wrapped function's value): return it.
 * 3. A failure (a throw, or a status ≥ 400) is retryable if `retryOn` says so; when it returns
 *    `undefined` (or is not set), by the default rules of `classify`. Not retryable: return the
 *    outcome or rethrow the error as it is.
 * 4. Retryable, but a limit stops it: the attempts ran out; the call is not idempotent and the
 *    failure may have reached the server; the server asks a wait above `maxRetryAfter`; the wait
 *    would pass the deadline; the budget is spent. That is a give-up: the last outcome is returned
 *    (so fetch resolves with the last Response) or the last error thrown.
 * 5. Otherwise wait `retry-after` (when respected and given) or the backoff, then go again.
 *
 * `retryOn` decides retryability only: it cannot lift the limits of step 4, so a non-idempotent
 * call is never sent twice on a hook's word; an idempotency key is what makes it retryable.
 * Every error that ends the call, except the caller's own abort reason, gets `attempts` set.
 */
export function createRetryStage(
  ctx: StageContext,
  retry: ResolvedRetry,
  random: () => number = Math.random,
): Stage {
  const { maxAttempts, statuses, respectRetryAfter, maxRetryAfter, retryOn } = retry
  const budget = retry.budget === false ? undefined : new RetryBudget(retry.budget)

  return async (call, next) => {
    budget?.recordCall(ctx.clock.now())
    let previousDelay: number | undefined
    for (let attempt = 1; ; attempt++) {
      let result: Attempt
      try {
        result = { ok: true, outcome: await next(call) }
      } catch (error) {
        result = { ok: false, error }
      }
      if (call.signal?.aborted) {
        if (result.ok) discard(result.outcome)
        throw call.signal.reason
      }
      const verdict = result.ok
        ? classifyOutcome(result.outcome, statuses)
        : classifyError(result.error, statuses)
      if (!verdict.failed) return finish(result, attempt)
      const retryable = retryOn?.(contextOf(call, attempt, verdict, result)) ?? verdict.retryable
      if (!retryable) return finish(result, attempt)

      const retryAfter = respectRetryAfter
        ? retryAfterDelay(verdict.header, ctx.clock.now())
        : undefined
      const delay = retryAfter ?? backoffDelay(attempt, retry, previousDelay, random)
      const now = ctx.clock.now()
      const stoppedBy: GiveUpCause | undefined =
        attempt >= maxAttempts
          ? 'attempts'
          : !(call.retry || verdict.beforeSend)
            ? 'notIdempotent'
            : retryAfter !== undefined && retryAfter > maxRetryAfter
              ? 'retryAfter'
              : call.deadline !== undefined && now + delay > call.deadline
                ? 'deadline'
                : budget !== undefined && !budget.tryRetry(now)
                  ? 'budget'
                  : undefined
      if (stoppedBy !== undefined) {
        ctx.counters.giveUps++
        if (ctx.events.wants('giveUp')) {
          ctx.events.emit({
            type: 'giveUp',
            ...eventBase(call),
            attempts: attempt,
            reason: verdict.reason,
            stoppedBy,
          })
        }
        return finish(result, attempt)
      }

      ctx.counters.retries++
      if (ctx.events.wants('retry')) {
        ctx.events.emit({
          type: 'retry',
          ...eventBase(call),
          attempt,
          delay,
          reason: verdict.reason,
        })
      }
      if (result.ok) discard(result.outcome)
      previousDelay = delay
      await sleep(delay, call.signal)
    }
  }
}

/** Ends the call with what the last attempt gave: its outcome, or its error carrying `attempts`. */
function finish(result: Attempt, attempts: number): Outcome {
  if (result.ok) return result.outcome
  const { error } = result
  // Reflect.set: a frozen error keeps its shape instead of throwing from inside our catch.
  if ((typeof error === 'object' && error !== null) || typeof error === 'function') {
    Reflect.set(error, 'attempts', attempts)
  }
  throw error
}

function contextOf(call: Call, attempt: number, verdict: Verdict, result: Attempt): RetryContext {
  return {
    method: call.method,
    url: call.url,
    origin: call.origin,
    attempt,
    status: verdict.status,
    error: result.ok ? undefined : result.error,
    header: verdict.header,
  }
}
