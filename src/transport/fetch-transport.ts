import type { Headers as UndiciHeaders } from 'undici'
import type { Call } from '../core/call.js'
import { InvalidResponseError } from '../core/errors.js'
import type { HttpOutcome } from '../core/outcome.js'
import type { Next } from '../core/stage.js'
import type { Counters } from '../core/stats.js'
import { isResponseStatus, reasonPhraseOf } from '../http/status-line.js'

/**
 * The global `Headers` (Node's bundled undici) and undici 7's differ in their types only (the
 * iterator helpers undici's declare): the value is both, so each fetch takes it as its own.
 */
export type FetchHeaders = Headers & UndiciHeaders

/** The part of a WHATWG `Response` the transport reads. */
export interface ResponseLike {
  readonly status: number
  readonly statusText: string
  readonly url: string
  readonly headers: Iterable<[string, string]>
  readonly body: ReadableStream<Uint8Array> | null
  arrayBuffer(): Promise<ArrayBuffer>
}

/**
 * What `options.fetch` must look like: `globalThis.fetch`, undici's `fetch`, or a wrapper of
 * them, each taken as it is, without a cast.
 */
export type FetchLike = (input: string, init: FetchInit) => Promise<ResponseLike>

/**
 * What each attempt hands to `options.fetch`. No `dispatcher`: every fetch types its own
 * (undici's `Dispatcher`, none for the global one), and one given here would refuse the others.
 */
export interface FetchInit {
  method: string
  headers: FetchHeaders
  body?: Uint8Array
  signal?: AbortSignal
  redirect: 'follow'
}

export interface FetchTransportOptions {
  readonly fetch: FetchLike
  readonly counters: Counters
  /** Bodies announced larger than this are passed through live, never buffered. */
  readonly maxBodyBytes: number
}

/** Sends one attempt through fetch and turns the response into an Outcome. */
export function createFetchTransport(options: FetchTransportOptions): Next {
  const { fetch, counters, maxBodyBytes } = options
  return async (call: Call): Promise<HttpOutcome> => {
    if (call.kind !== 'http') throw new TypeError('the fetch transport sends HTTP calls only')
    counters.upstreamCalls++
    const init: FetchInit = {
      method: call.method,
      // The one Headers object both fetches read; see FetchHeaders.
      headers: call.headers as FetchHeaders,
      redirect: 'follow',
    }
    if (call.body !== undefined) init.body = call.body
    if (call.signal !== undefined) init.signal = call.signal
    // The last thing before the request leaves: what waited above (buckets, the breaker) was
    // not a send, and a record marked sent after the fetch began could miss a send.
    if (call.beforeSend !== undefined) await call.beforeSend()
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
