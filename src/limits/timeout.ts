import type { StageContext } from '../context.js'
import { TimeoutError } from '../errors.js'
import { discard, type Outcome, type Stage } from '../pipeline.js'
import { maxTimerMs } from '../validate.js'

/**
 * The per-attempt time limit, innermost before the transport: `call.timeout` ms (0: none),
 * shortened to what is left before `call.deadline`.
 *
 * The attempt gets a signal that aborts on the limit or on the caller's abort. The stage does
 * not trust the attempt to honor it: it races the attempt against its own timer, so a wrapped
 * function that ignores signals still ends with a `TimeoutError` on time. The caller's abort
 * rejects with the caller's reason. The timer is cleared however the race ends.
 */
export function createTimeoutStage(ctx: StageContext): Stage {
  return (call, next) => {
    const remaining = call.deadline === undefined ? Infinity : call.deadline - ctx.clock.now()
    const limit = call.timeout > 0 ? Math.min(call.timeout, remaining) : remaining
    // setTimeout fires at once past maxTimerMs; a longer limit is no limit at all.
    if (!(limit <= maxTimerMs)) return next(call)
    const what = limit < call.timeout || call.timeout === 0 ? 'attempt (call deadline)' : 'attempt'
    // Nothing is sent past the deadline: the retry stage sees a timeout and stops there.
    if (limit <= 0) return Promise.reject(new TimeoutError(0, what))
    const callerSignal = call.signal
    if (callerSignal?.aborted) return Promise.reject(callerSignal.reason)

    const controller = new AbortController()
    const signal =
      callerSignal === undefined
        ? controller.signal
        : AbortSignal.any([callerSignal, controller.signal])

    return new Promise<Outcome>((resolve, reject) => {
      let settled = false
      const settle = () => {
        settled = true
        clearTimeout(timer)
        callerSignal?.removeEventListener('abort', onCallerAbort)
      }
      const onCallerAbort = () => {
        settle()
        reject(callerSignal?.reason)
      }
      const timer = setTimeout(() => {
        settle()
        ctx.counters.timeouts++
        const error = new TimeoutError(limit, what)
        controller.abort(error)
        reject(error)
      }, limit)
      callerSignal?.addEventListener('abort', onCallerAbort, { once: true })

      let attempt: Promise<Outcome>
      try {
        attempt = next({ ...call, signal })
      } catch (error) {
        settle()
        reject(error)
        return
      }
      // Both handlers are attached, so the loser of the race never rejects unhandled.
      attempt.then(
        (outcome) => {
          // A late outcome was raced away: its live body must still be released.
          if (settled) return discard(outcome)
          settle()
          resolve(outcome)
        },
        (error: unknown) => {
          if (settled) return
          settle()
          reject(error)
        },
      )
    })
  }
}
