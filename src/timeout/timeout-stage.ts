import type { StageContext } from '../core/context.js'
import { TimeoutError } from '../core/errors.js'
import { discard, type HttpOutcome, type Outcome } from '../core/outcome.js'
import type { Stage } from '../core/stage.js'
import { maxTimerMs } from '../core/validate.js'
import { isEventStream } from '../http/content-type.js'
import { headerOf } from '../http/headers.js'

/**
 * The per-attempt time limit, innermost before the transport: `call.timeout` ms (0: none),
 * shortened to what is left before `call.deadline`.
 *
 * The attempt gets a signal that aborts on the limit or on the caller's abort. The stage does
 * not trust the attempt to honor it: it races the attempt against its own timer, so a wrapped
 * function that ignores signals still ends with a `TimeoutError` on time. The caller's abort
 * rejects with the caller's reason. The timer is cleared however the race ends.
 *
 * A body the transport buffers is read inside the attempt, so the limit runs to its last byte.
 * A live body (not shared, or too large to buffer) is held to the same limit: it is handed on
 * at once, and errors with the `TimeoutError` (or the caller's abort reason) if it has not
 * ended by then, which also releases the connection of a body nobody reads. An event stream
 * is exempt once the attempt hands it on (at its headers, or at its commit when the stream
 * stage below reads it ahead): it may rightly run for minutes.
 */
export function createTimeoutStage(ctx: StageContext): Stage {
  return (call, next) => {
    const remaining = call.deadline === undefined ? Infinity : call.deadline - ctx.clock.now()
    const limit = call.timeout > 0 ? Math.min(call.timeout, remaining) : remaining
    // A timer fires at once past maxTimerMs; a longer limit is no limit at all.
    if (!(limit <= maxTimerMs)) return next(call)
    const what = limit < call.timeout || call.timeout === 0 ? 'attempt (call deadline)' : 'attempt'
    // Nothing is sent past the deadline: the retry stage sees a timeout and stops there.
    if (limit <= 0) return Promise.reject(new TimeoutError(0, what))
    const callerSignal = call.signal
    if (callerSignal?.aborted) return Promise.reject(callerSignal.reason)

    // The caller's abort is forwarded by hand: Node 20 keeps every `AbortSignal.any` result
    // alive once made (about 3 KB a call, without bound).
    const controller = new AbortController()
    const signal = controller.signal

    return new Promise<Outcome>((resolve, reject) => {
      let settled = false
      // Set once a live body is handed on: the promise is resolved, the body still timed.
      let cutBody: ((error: unknown) => void) | undefined
      const settle = () => {
        settled = true
        ctx.timers.clearTimeout(timer)
      }
      // The attempt is over, body included: the caller's abort has nothing left to end.
      const release = () => callerSignal?.removeEventListener('abort', onCallerAbort)
      const onCallerAbort = () => {
        controller.abort(callerSignal?.reason)
        cutBody?.(callerSignal?.reason)
        if (settled) return
        settle()
        reject(callerSignal?.reason)
      }
      const timer = ctx.timers.setTimeout(() => {
        settle()
        ctx.counters.timeouts++
        const error = new TimeoutError(limit, what)
        controller.abort(error)
        cutBody?.(error)
        release()
        reject(error)
      }, limit)
      callerSignal?.addEventListener('abort', onCallerAbort, { once: true })

      let attempt: Promise<Outcome>
      try {
        attempt = next({ ...call, signal })
      } catch (error) {
        settle()
        release()
        reject(error)
        return
      }
      // Both handlers are attached, so the loser of the race never rejects unhandled.
      attempt.then(
        (outcome) => {
          // A late outcome was raced away: its live body must still be released.
          if (settled) return discard(outcome)
          const live = liveBody(outcome)
          if (live === undefined) {
            settle()
            release()
            resolve(outcome)
            return
          }
          if (isEventStream(headerOf(live, 'content-type') ?? '')) {
            // Exempt from the limit once its headers are in, but still the caller's to abort.
            settle()
            if (callerSignal === undefined) return resolve(live)
            const guarded = guardBody(live.body, release)
            cutBody = guarded.cut
            resolve({ ...live, body: guarded.body })
            return
          }
          const guarded = guardBody(live.body, () => {
            settle()
            release()
          })
          cutBody = guarded.cut
          resolve({ ...live, body: guarded.body })
        },
        (error: unknown) => {
          if (settled) return
          settle()
          release()
          reject(error)
        },
      )
    })
  }
}

type LiveOutcome = HttpOutcome & { readonly body: ReadableStream<Uint8Array> }

/** The outcome when its body is live: it is read after the attempt has resolved. */
function liveBody(outcome: Outcome): LiveOutcome | undefined {
  if (outcome.kind !== 'http' || !(outcome.body instanceof ReadableStream)) return undefined
  return outcome as LiveOutcome
}

/**
 * `source` passed on chunk by chunk as it is read. `onEnd` runs once, when it ends, fails or
 * is cancelled by its reader; `cut` errors it with `error` for its reader and cancels `source`.
 */
function guardBody(source: ReadableStream<Uint8Array>, onEnd: () => void) {
  const reader = source.getReader()
  let open = true
  let controller: ReadableStreamDefaultController<Uint8Array> | undefined
  const end = () => {
    open = false
    onEnd()
  }
  const body = new ReadableStream<Uint8Array>(
    {
      start(c) {
        controller = c
      },
      async pull(c) {
        try {
          const chunk = await reader.read()
          // Cut while the read was pending: the reader already has the error.
          if (!open) return
          if (!chunk.done) return c.enqueue(chunk.value)
          end()
          c.close()
        } catch (error) {
          if (!open) return
          end()
          c.error(error)
        }
      },
      cancel(reason) {
        if (open) end()
        return reader.cancel(reason)
      },
    },
    // No read-ahead: the body flows at its reader's pace, as it would unwrapped.
    { highWaterMark: 0 },
  )
  const cut = (error: unknown) => {
    if (!open) return
    open = false
    controller?.error(error)
    reader.cancel(error).catch(() => {})
  }
  return { body, cut }
}
