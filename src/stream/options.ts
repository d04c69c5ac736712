/**
 * The options of streamed answers (`text/event-stream`): where one is committed to the caller
 * (`streamCommit`) and how long it may go silent (`streamIdleTimeout`).
 */
import { show, timerMs } from '../core/validate.js'
import { firstEventCommit } from './first-event-commit.js'
import type { StreamCommit } from './verdict.js'

/** The options of this folder, as `BreakwaterOptions` takes them at its top level. */
export interface StreamOptions {
  /**
   * Where a 2xx event stream is committed. Before the commit its bytes are held, and an error
   * event fails the attempt like a status (retried, counted by the breaker, never seen by the
   * caller); after it, bytes flow to the caller as they arrive. `true`: at the first event that
   * is not an error (an `error` event, or data with an `error` field, is a failure); a
   * `StreamCommit` of your own; `false`: at the headers, unread. The LLM presets set their
   * provider's rule.
   * @default false
   */
  streamCommit?: boolean | StreamCommit
  /**
   * ms an event stream may go without a byte. Before the commit the attempt then fails with
   * `TimeoutError` and is retried; after it, the caller's stream errors with `TimeoutError`.
   * 0 turns it off.
   * @default 0
   */
  streamIdleTimeout?: number
}

export interface ResolvedStream {
  readonly commit: StreamCommit | undefined
  readonly idleTimeout: number
}

/** Validates both options once; `false` when neither is on and the stage is not needed. */
export function resolveStream(o: StreamOptions): ResolvedStream | false {
  const idleTimeout = timerMs('streamIdleTimeout', o.streamIdleTimeout, 0)
  const given = o.streamCommit
  if (given !== undefined && typeof given !== 'boolean' && typeof given !== 'function') {
    throw new TypeError(`streamCommit must be a boolean or a function, got ${show(given)}`)
  }
  const commit = given === true ? firstEventCommit : given === false ? undefined : given
  if (commit === undefined && idleTimeout === 0) return false
  return { commit, idleTimeout }
}
