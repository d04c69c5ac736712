/**
 * The generic commit rule (`streamCommit: true`), for an event stream of any API, and the
 * readings every rule shares: pure.
 */
import type { StreamEvent, StreamVerdict } from './verdict.js'

/** The event's data as JSON, or `undefined` when it is not JSON (a `[DONE]` sentinel). */
export function jsonData(event: StreamEvent): unknown {
  try {
    return JSON.parse(event.data)
  } catch {
    return undefined
  }
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** `value` as an HTTP error status (a number or a three-digit string, 400 to 599), if it is one. */
export function errorStatus(value: unknown): number | undefined {
  const n = typeof value === 'string' && /^\d{3}$/.test(value) ? Number(value) : value
  return Number.isInteger(n) && (n as number) >= 400 && (n as number) <= 599
    ? (n as number)
    : undefined
}

/**
 * An error event fails the attempt: one named `error`, or data whose JSON has an `error` field
 * or says `"type": "error"`. Its status is the one it carries (`status` or `code`, on the
 * error or beside it), else 500. Any other event with data commits the stream.
 */
export function firstEventCommit(event: StreamEvent): StreamVerdict {
  const value = jsonData(event)
  const error = isObject(value) ? value.error : undefined
  const isError =
    event.event === 'error' ||
    (isObject(value) && (value.type === 'error' || isObject(error) || typeof error === 'string'))
  if (!isError) return 'commit'
  const inner = isObject(error) ? error : {}
  const outer = isObject(value) ? value : {}
  const status =
    errorStatus(inner.status) ??
    errorStatus(inner.code) ??
    errorStatus(outer.status) ??
    errorStatus(outer.code) ??
    500
  return { status, body: isObject(value) ? value : { error: { message: event.data } } }
}
