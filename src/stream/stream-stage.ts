import type { StageContext } from '../core/context.js'
import type { HttpOutcome, Outcome } from '../core/outcome.js'
import type { Stage } from '../core/stage.js'
import { isEventStream } from '../http/content-type.js'
import { headerOf } from '../http/headers.js'
import type { ResolvedStream } from './options.js'
import { type ReadAhead, readToCommit, readWithin } from './read-ahead.js'
import { committedBody, failedOutcome, truncated } from './stream-bodies.js'

type LiveStream = HttpOutcome & { readonly body: ReadableStream<Uint8Array> }

/** A 2xx event stream passed through live: the only answer this stage reads. */
function liveStream(outcome: Outcome): LiveStream | undefined {
  if (outcome.kind !== 'http' || !(outcome.body instanceof ReadableStream)) return undefined
  if (outcome.status < 200 || outcome.status > 299) return undefined
  if (!isEventStream(headerOf(outcome, 'content-type') ?? '')) return undefined
  return outcome as LiveStream
}

/**
 * Commits each streamed answer at its first content event, innermost before the transport, so
 * that every part above sees a stream that failed before its content as the status it stands
 * for: the retry stage retries it, the breaker counts it, the per-attempt `timeout` runs to the
 * commit, and the caller, when the retries run out, gets that status as a JSON answer.
 *
 * Until the commit every byte is held back, and the attempt fails on an error event (the
 * rule's `StreamFailure`), on a close before content (502), or on a gap past
 * `streamIdleTimeout` (`TimeoutError`, retried as a timeout); a failed attempt's bytes are
 * dropped, so the caller's stream is the one attempt that committed, from its first byte. After
 * the commit the bytes flow as they arrive, each gap still timed: a stall then errors the
 * caller's stream with `TimeoutError`, since what was read cannot be taken back.
 */
export function createStreamStage(ctx: StageContext, stream: ResolvedStream): Stage {
  const { commit, idleTimeout } = stream
  const onIdle = () => {
    ctx.counters.timeouts++
  }
  return async (call, next) => {
    const outcome = await next(call)
    const live = liveStream(outcome)
    if (live === undefined) return outcome
    const reader = live.body.getReader()
    if (commit === undefined) {
      return { ...live, body: committedBody(undefined, reader, idleTimeout, ctx.timers, onIdle) }
    }
    let ahead: ReadAhead
    try {
      ahead = await readToCommit(() => readWithin(reader, idleTimeout, ctx.timers, onIdle), commit)
    } catch (error) {
      reader.cancel(error).catch(() => {})
      throw error
    }
    if (ahead.kind === 'committed') {
      return { ...live, body: committedBody(ahead.held, reader, idleTimeout, ctx.timers, onIdle) }
    }
    reader.cancel().catch(() => {})
    ctx.counters.streamErrors++
    return failedOutcome(live, ahead.kind === 'failed' ? ahead.failure : truncated)
  }
}
