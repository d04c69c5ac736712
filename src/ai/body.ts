/**
 * Complete bodies read as JSON, once: a call's request body is asked for by every bucket's
 * `cost` and by `cacheable`, its answer by every bucket's `actualCost` and by `storable`, its
 * refusal by `retryOn` and `retryAfter`. Each body's bytes are decoded and parsed the first
 * time only.
 */

import type { Outcome } from '../core/outcome.js'
import { isEventStream } from '../http/content-type.js'
import { headerOf } from '../http/headers.js'
import { type JsonEvent, jsonEvents } from './sse.js'

const decoder = new TextDecoder()
const json = new WeakMap<Uint8Array, unknown>()
const events = new WeakMap<Uint8Array, readonly JsonEvent[]>()

/** The JSON value of a body, or `undefined` when it is not JSON. */
export function jsonOf(body: Uint8Array): unknown {
  if (json.has(body)) return json.get(body)
  let value: unknown
  try {
    value = JSON.parse(decoder.decode(body))
  } catch {
    value = undefined
  }
  json.set(body, value)
  return value
}

/** The JSON payloads of an event-stream body (see `jsonEvents`). */
export function jsonEventsOf(body: Uint8Array): readonly JsonEvent[] {
  let found = events.get(body)
  if (found === undefined) {
    found = jsonEvents(decoder.decode(body))
    events.set(body, found)
  }
  return found
}

/** The answer is an event stream, by its `content-type`. */
export function isStreamOutcome(outcome: Outcome): boolean {
  return outcome.kind === 'http' && isEventStream(headerOf(outcome, 'content-type') ?? '')
}
