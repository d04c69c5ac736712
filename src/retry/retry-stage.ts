import type { Call } from '../core/call.js'
import { sleep } from '../core/clock.js'
import { eventBase, type StageContext } from '../core/context.js'
import type { GiveUpCause } from '../core/events.js'
import { discard, type Outcome } from '../core/outcome.js'
import type { Next, Stage } from '../core/stage.js'
import { isEventStream } from '../http/content-type.js'
import { headerOf } from '../http/headers.js'
import { backoffDelay } from './backoff.js'
import { RetryBudget } from './budget.js'
import { classifyError, classifyOutcome, type Verdict } from './classify.js'
import type { ResolvedRetry, RetryContext } from './options.js'
import { retryAfterDelay } from './retry-after.js'
import { stopReason } from './stop.js'

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
  const turns: Turns = {
    ctx,
    retry,
    random,
    hooked: retry.retryOn !== undefined || retry.retryAfter !== undefined,
    budget: retry.budget === false ? undefined : new RetryBudget(retry.budget),
  }
  return async (call, next) => {
    // `retry: false` for this one call: one attempt, outside the budget as well.
    if (!call.retries) return next(call)
    turns.budget?.recordCall(ctx.clock.now())
    let previousDelay: number | undefined
    for (let attempt = 1; ; attempt++) {
      const { result, delay } = await turn(turns, call, next, attempt, previousDelay)
      if (delay === undefined) return finish(result, attempt)
      if (result.ok) discard(result.outcome)
      previousDelay = delay
      await sleep(delay, call.signal, ctx.timers)
    }
  }
}

/** What every turn of one stage shares, resolved once. */
interface Turns {
  readonly ctx: StageContext
  readonly retry: ResolvedRetry
  readonly random: () => number
  /** A hook reads the failures (`retryOn`, `retryAfter`), so their bodies are buffered. */
  readonly hooked: boolean
  readonly budget: RetryBudget | undefined
}

/** How a turn ended: with the attempt to finish on, or with the wait before the next one. */
interface Turn {
  readonly result: Attempt
  readonly delay?: number
}

/** One attempt and its verdict: steps 1 to 4 of the stage's doc; the caller waits and loops. */
async function turn(
  turns: Turns,
  call: Call,
  next: Next,
  attempt: number,
  previousDelay: number | undefined,
): Promise<Turn> {
  const { ctx, retry, hooked } = turns
  let result = await attemptOnce(call, next)
  if (call.signal?.aborted) {
    if (result.ok) discard(result.outcome)
    throw call.signal.reason
  }
  const verdict = result.ok
    ? classifyOutcome(result.outcome, retry.statuses)
    : classifyError(result.error, retry.statuses)
  if (!verdict.failed) return { result }
  // Only a hook reads the body, so only with one is a failed body buffered.
  if (hooked && result.ok) result = await bufferedAttempt(result.outcome)
  const context = hooked ? contextOf(call, attempt, verdict, result) : undefined
  const retryable = (context && retry.retryOn?.(context)) ?? verdict.retryable
  if (!retryable) return { result }

  const retryAfter = retry.respectRetryAfter
    ? (retryAfterDelay(verdict.header, ctx.clock.now()) ?? hookDelay(retry, context))
    : undefined
  const delay = retryAfter ?? backoffDelay(attempt, retry, previousDelay, turns.random)
  const now = ctx.clock.now()
  const { budget } = turns
  const stoppedBy = stopReason({
    attempt,
    maxAttempts: retry.maxAttempts,
    resendable: call.resendable,
    beforeSend: verdict.beforeSend,
    retryAfter,
    maxRetryAfter: retry.maxRetryAfter,
    now,
    delay,
    deadline: call.deadline,
    budgetAllows: () => budget === undefined || budget.tryRetry(now),
  })
  if (stoppedBy !== undefined) {
    reportGiveUp(ctx, call, attempt, verdict.reason, stoppedBy)
    return { result }
  }
  reportRetry(ctx, call, attempt, delay, verdict.reason)
  return { result, delay }
}

/** Sends the call once; a throw is an attempt that failed, not a failure of the stage. */
async function attemptOnce(call: Call, next: Next): Promise<Attempt> {
  try {
    return { ok: true, outcome: await next(call) }
  } catch (error) {
    return { ok: false, error }
  }
}

/** The failed outcome with its body read for the hooks (see `buffered`). */
async function bufferedAttempt(outcome: Outcome): Promise<Attempt> {
  try {
    return { ok: true, outcome: await buffered(outcome) }
  } catch (error) {
    // The body broke off while read: the attempt failed as the network failed.
    return { ok: false, error }
  }
}

/** The wait a `retryAfter` hook asks, when it asks a sensible one. */
function hookDelay(retry: ResolvedRetry, context: RetryContext | undefined): number | undefined {
  const ms = context === undefined ? undefined : retry.retryAfter?.(context)
  // Like a header's nonsense, a hook's is no wait at all: the backoff decides.
  return ms !== undefined && Number.isFinite(ms) && ms >= 0 ? ms : undefined
}

function reportGiveUp(
  ctx: StageContext,
  call: Call,
  attempts: number,
  reason: string,
  stoppedBy: GiveUpCause,
): void {
  ctx.counters.giveUps++
  if (ctx.events.wants('giveUp')) {
    ctx.events.emit({ type: 'giveUp', ...eventBase(call), attempts, reason, stoppedBy })
  }
}

function reportRetry(
  ctx: StageContext,
  call: Call,
  attempt: number,
  delay: number,
  reason: string,
): void {
  ctx.counters.retries++
  if (ctx.events.wants('retry')) {
    ctx.events.emit({ type: 'retry', ...eventBase(call), attempt, delay, reason })
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

// Error bodies are short; past this one is streamed to the caller as it is, unread by hooks.
const maxErrorBody = 65_536

/**
 * The outcome with its body read whole, when it is a live body that is not an event stream and
 * fits `maxErrorBody`; a longer one is handed on as a stream of what was read and the rest.
 */
async function buffered(outcome: Outcome): Promise<Outcome> {
  if (outcome.kind !== 'http' || !(outcome.body instanceof ReadableStream)) return outcome
  if (isEventStream(headerOf(outcome, 'content-type') ?? '')) return outcome
  const reader = outcome.body.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) return { ...outcome, body: Buffer.concat(chunks, size) }
    chunks.push(value)
    size += value.byteLength
    if (size > maxErrorBody) break
  }
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const chunk = chunks.shift()
      if (chunk !== undefined) return controller.enqueue(chunk)
      const { done, value } = await reader.read()
      if (done) controller.close()
      else controller.enqueue(value)
    },
    cancel: (reason) => reader.cancel(reason),
  })
  return { ...outcome, body }
}

function contextOf(call: Call, attempt: number, verdict: Verdict, result: Attempt): RetryContext {
  const outcome = result.ok ? result.outcome : undefined
  return {
    body: outcome?.kind === 'http' && outcome.body instanceof Uint8Array ? outcome.body : undefined,
    method: call.method,
    url: call.url,
    origin: call.origin,
    attempt,
    status: verdict.status,
    error: result.ok ? undefined : result.error,
    header: verdict.header,
  }
}
