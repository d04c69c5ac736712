/** What a commit rule reads (one event) and says (commit, hold, or a failure): types, pure. */
import { show } from '../core/validate.js'

/** One server-sent event, as a commit rule reads it. */
export interface StreamEvent {
  /** The `event:` field, or `'message'` when the event names none. */
  readonly event: string
  /** The `data:` lines joined by newlines. */
  readonly data: string
}

/**
 * An error the stream reported before its first content event: the attempt fails as if the
 * server had answered `status` with `body`, so it is classified, retried and counted by the
 * breaker like that answer, and handed to the caller as that answer when the retries run out.
 */
export interface StreamFailure {
  /** The HTTP status the failure stands for, 400 to 599 (Anthropic's `overloaded_error`: 529). */
  readonly status: number
  /** The JSON body of that answer: the error as the API sends it outside a stream. */
  readonly body: unknown
}

/**
 * What one event before the commit says: `'commit'`, it is content (or the end), so the stream
 * goes to the caller from its first byte; `'hold'`, it is bookkeeping (a start, a ping), keep
 * reading; a `StreamFailure`, the attempt failed.
 */
export type StreamVerdict = 'commit' | 'hold' | StreamFailure

/** Reads the events of a stream before its commit, one by one, in order. */
export type StreamCommit = (event: StreamEvent) => StreamVerdict

/** A rule's verdict checked: a bad one is a bug in the rule, named as such. */
export function checkVerdict(verdict: unknown): StreamVerdict {
  if (verdict === 'commit' || verdict === 'hold') return verdict
  if (typeof verdict === 'object' && verdict !== null) {
    const { status } = verdict as { status?: unknown }
    if (Number.isInteger(status) && (status as number) >= 400 && (status as number) <= 599) {
      return verdict as StreamFailure
    }
  }
  throw new TypeError(
    `streamCommit must return 'commit', 'hold' or { status: 400 to 599, body }, got ${show(verdict)}`,
  )
}
