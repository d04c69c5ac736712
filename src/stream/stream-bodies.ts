/**
 * What the stream stage hands on: the committed stream (its held bytes, then the rest as it
 * arrives, each gap timed), or, for a stream that failed before its content, the answer the
 * failure stands for.
 */
import { STATUS_CODES } from 'node:http'
import type { Timers } from '../core/clock.js'
import type { HttpOutcome } from '../core/outcome.js'
import { readWithin } from './read-ahead.js'
import type { StreamFailure } from './verdict.js'

/** Marks an answer made from an error event before content, not sent by the server as such. */
export const streamErrorHeader = 'x-breakwater-stream-error'

/**
 * `held` (if any), then what is left of `reader` chunk by chunk as it is read, with no
 * read-ahead: bytes reach the caller as they arrive. A gap past `idleMs` (0: none) errors the
 * stream with `TimeoutError` and cancels the upstream; the caller's cancel cancels it too.
 */
export function committedBody(
  held: Uint8Array | undefined,
  reader: ReadableStreamDefaultReader<Uint8Array>,
  idleMs: number,
  timers: Timers,
  onIdle: () => void,
): ReadableStream<Uint8Array> {
  let first = held !== undefined && held.byteLength > 0 ? held : undefined
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        if (first !== undefined) {
          controller.enqueue(first)
          first = undefined
          return
        }
        try {
          const { done, value } = await readWithin(reader, idleMs, timers, onIdle)
          if (done) controller.close()
          else controller.enqueue(value)
        } catch (error) {
          controller.error(error)
        }
      },
      cancel: (reason) => reader.cancel(reason),
    },
    { highWaterMark: 0 },
  )
}

// What described the event stream's body, not the JSON answer that replaces it.
const bodyHeaders = new Set(['content-type', 'content-length', 'content-encoding'])

/**
 * The answer a stream's failure stands for: its status, its body as JSON, and the stream's
 * headers (request ids, rate-limit counts) but for those of the body, marked with
 * `x-breakwater-stream-error`.
 */
export function failedOutcome(stream: HttpOutcome, failure: StreamFailure): HttpOutcome {
  const headers: (readonly [string, string])[] = stream.headers.filter(
    ([name]) => !bodyHeaders.has(name),
  )
  headers.push(['content-type', 'application/json'], [streamErrorHeader, 'true'])
  return {
    kind: 'http',
    status: failure.status,
    statusText: STATUS_CODES[failure.status] ?? '',
    headers,
    body: Buffer.from(JSON.stringify(failure.body ?? null)),
    url: stream.url,
  }
}

/** The failure of a stream that closed before its first content event: a truncated answer. */
export const truncated: StreamFailure = {
  status: 502,
  body: {
    type: 'error',
    error: { type: 'api_error', message: 'the event stream ended before its first content event' },
  },
}
