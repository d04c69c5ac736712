/**
 * Reading an event stream up to its commit point: every byte is held back, and each complete
 * event is put to the commit rule in order, until one commits, one fails, or the stream ends.
 */
import { createParser } from 'eventsource-parser'
import type { Timers } from '../core/clock.js'
import { TimeoutError } from '../core/errors.js'
import { checkVerdict, type StreamCommit, type StreamEvent, type StreamFailure } from './verdict.js'

/**
 * Held bytes past which a stream is committed as it stands: a rule that holds every event
 * would otherwise buffer the whole answer, which is what the commit exists to avoid.
 */
export const maxHeldBytes = 1_048_576

/** One read of a byte stream (the DOM lib's `ReadableStreamReadResult`, absent from Node's types). */
export type ChunkRead = { done: true; value?: undefined } | { done: false; value: Uint8Array }

/** How the read-ahead ended. */
export type ReadAhead =
  | { readonly kind: 'committed'; readonly held: Uint8Array }
  | { readonly kind: 'failed'; readonly failure: StreamFailure }
  /** The stream closed before any content: a truncated answer. */
  | { readonly kind: 'ended' }

/**
 * The next chunk of `reader`, or a `TimeoutError` when none comes within `idleMs` (0: wait as
 * long as it takes); on the timeout the reader is cancelled, which releases the connection.
 */
export function readWithin(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  idleMs: number,
  timers: Timers,
  onIdle: () => void,
): Promise<ChunkRead> {
  if (idleMs === 0) return reader.read() as Promise<ChunkRead>
  return new Promise((resolve, reject) => {
    const timer = timers.setTimeout(() => {
      onIdle()
      const error = new TimeoutError(idleMs, 'event stream (no byte)')
      reject(error)
      reader.cancel(error).catch(() => {})
    }, idleMs)
    reader.read().then(
      (result) => {
        timers.clearTimeout(timer)
        resolve(result as ChunkRead)
      },
      (error: unknown) => {
        timers.clearTimeout(timer)
        reject(error)
      },
    )
  })
}

/**
 * Reads with `read` until `commit` says how the stream stands. Events are taken in the order
 * they came, so content and an error in one chunk are told apart: whichever comes first decides.
 * An unfinished last event at the end is no event (WHATWG HTML §9.2.6).
 */
export async function readToCommit(
  read: () => Promise<ChunkRead>,
  commit: StreamCommit,
): Promise<ReadAhead> {
  const chunks: Uint8Array[] = []
  let size = 0
  const events: StreamEvent[] = []
  const parser = createParser({
    onEvent: ({ event, data }) => events.push({ event: event ?? 'message', data }),
  })
  const decoder = new TextDecoder()
  const held = () => ({ kind: 'committed' as const, held: Buffer.concat(chunks, size) })
  for (;;) {
    const { done, value } = await read()
    if (done) return { kind: 'ended' }
    chunks.push(value)
    size += value.byteLength
    parser.feed(decoder.decode(value, { stream: true }))
    for (const event of events.splice(0)) {
      const verdict = checkVerdict(commit(event))
      if (verdict === 'commit') return held()
      if (verdict !== 'hold') return { kind: 'failed', failure: verdict }
    }
    if (size > maxHeldBytes) return held()
  }
}
