import { type Call, createCall, type HttpCallInit } from '../../src/core/call.js'
import { systemTimers } from '../../src/core/clock.js'
import type { StageContext } from '../../src/core/context.js'
import type { BreakwaterEvent } from '../../src/core/events.js'
import { Events } from '../../src/core/events.js'
import type { HttpOutcome, Outcome } from '../../src/core/outcome.js'
import { Counters } from '../../src/core/stats.js'

/** What a test may set of a call: anything `createCall` takes, of either kind. */
export type CallOverrides = Partial<Omit<HttpCallInit, 'kind'>> & {
  readonly kind?: 'http' | 'value'
  readonly args?: readonly unknown[]
  readonly name?: string
}

/**
 * A call through `createCall`, as the fetch front door would build it unless told otherwise
 * (cacheable, coalescible, resendable), for tests of one stage.
 */
export function makeCall(overrides: CallOverrides = {}): Call {
  const { kind = 'http', args = [], name, ...rest } = overrides
  const common = { key: 'k1', cacheable: true, coalescible: true, resendable: true, ...rest }
  if (kind === 'value') {
    // The same origin as an http call's by default, so one breaker or bucket sees both kinds.
    const fn = name ?? rest.origin ?? 'http://127.0.0.1:1'
    return createCall({ ...common, kind: 'value', name: fn, args })
  }
  return createCall({
    kind: 'http',
    method: 'GET',
    url: 'http://127.0.0.1:1/a',
    headers: new Headers(),
    ...common,
  })
}

/** The headers a call went down with; undefined for a wrapped function's call. */
export const headersOf = (call: Call | undefined): Headers | undefined =>
  call?.kind === 'http' ? call.headers : undefined

/** An HTTP outcome with a text body. */
export function httpOutcome(
  status = 200,
  body = 'ok',
  headers: [string, string][] = [['content-type', 'text/plain']],
): HttpOutcome {
  return {
    kind: 'http',
    status,
    statusText: '',
    headers,
    body: new TextEncoder().encode(body),
    url: 'http://127.0.0.1:1/a',
  }
}

export function textOf(outcome: Outcome): string {
  if (outcome.kind !== 'http' || !(outcome.body instanceof Uint8Array)) {
    throw new Error('not a complete http outcome')
  }
  return new TextDecoder().decode(outcome.body)
}

/** A StageContext that records every event, with a hand-set clock (and the real timers). */
export function makeContext(start = 1_000_000): StageContext & {
  seen: BreakwaterEvent[]
  time: { now: number }
} {
  const seen: BreakwaterEvent[] = []
  const time = { now: start }
  return {
    counters: new Counters(),
    events: new Events((e) => seen.push(e)),
    clock: { now: () => time.now },
    timers: systemTimers,
    seen,
    time,
  }
}
