import type { Call } from '../core/call.js'
import { InvalidResponseError } from '../core/errors.js'
import type { HttpOutcome } from '../core/outcome.js'
import type { Next } from '../core/stage.js'
import type { Counters } from '../core/stats.js'
import { isResponseStatus, reasonPhraseOf } from '../http/status-line.js'

/** The part of a WHATWG `Response` the transport reads. */
export interface ResponseLike {
  readonly status: number
  readonly statusText: string
  readonly url: string
  readonly headers: Iterable<[string, string]>
  readonly body: ReadableStream<Uint8Array> | null
  arrayBuffer(): Promise<ArrayBuffer>
}

/** What `options.fetch` must look like: undici's `fetch`, the global one, or a wrapper of them. */
export type FetchLike = (input: string, init: FetchInit) => Promise<ResponseLike>

export interface FetchInit {
  method: string
  headers: Headers
  body?: Uint8Array
  signal?: AbortSignal
  redirect: 'follow'
  dispatcher?: unknown
}

export interface FetchTransportOptions {
  readonly fetch: FetchLike
  /** undici dispatcher owned by the instance (omitted when the user gave `fetch`). */
  readonly dispatcher: unknown
  readonly counters: Counters
  /** Bodies announced larger than this are passed through live, never buffered. */
  readonly maxBodyBytes: number
}

/** Sends one attempt through fetch and turns the response into an Outcome. */
export function createFetchTransport(options: FetchTransportOptions): Next {
  const { fetch, dispatcher, counters, maxBodyBytes } = options
  return async (call: Call): Promise<HttpOutcome> => {
    if (call.kind !== 'http') throw new TypeError('the fetch transport sends HTTP calls only')
    counters.upstreamCalls++
    const init: FetchInit = {
      method: call.method,
      headers: call.headers,
      redirect: 'follow',
    }
    if (call.body !== undefined) init.body = call.body
    if (call.signal !== undefined) init.signal = call.signal
    if (dispatcher !== undefined) init.dispatcher = dispatcher
    const response = await fetch(call.url, init)
    const headers: [string, string][] = []
    for (const [name, value] of response.headers) headers.push([name, value])
    if (!isResponseStatus(response.status)) {
      response.body?.cancel().catch(() => {})
      throw new InvalidResponseError(response.status, response.statusText, headers, call.target)
    }
    const base = {
      kind: 'http' as const,
      status: response.status,
      statusText: reasonPhraseOf(response.statusText),
      headers,
      url: response.url || call.url,
    }
    if (response.body === null) return { ...base, body: null }
    if (passThrough(call, headers, maxBodyBytes)) return { ...base, body: response.body }
    return { ...base, body: new Uint8Array(await response.arrayBuffer()) }
  }
}

/**
 * Buffer only what may be stored or shared. An event stream, a body nobody else will see, or one
 * announced larger than `maxBodyBytes` goes to the caller as it arrives.
 */
function passThrough(call: Call, headers: [string, string][], maxBodyBytes: number): boolean {
  if (!call.buffered) return true
  for (const [name, value] of headers) {
    if (name === 'content-type' && value.startsWith('text/event-stream')) return true
    if (name === 'content-length' && Number(value) > maxBodyBytes) return true
  }
  return false
}
