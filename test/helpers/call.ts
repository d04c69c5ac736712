import type { Call } from '../../src/core/call.js'
import type { StageContext } from '../../src/core/context.js'
import type { BreakwaterEvent } from '../../src/core/events.js'
import { Events } from '../../src/core/events.js'
import type { HttpOutcome, Outcome } from '../../src/core/outcome.js'
import { Counters } from '../../src/core/stats.js'

/** A Call as the fetch front door would build it, for tests of one stage. */
export function makeCall(overrides: Partial<Call> = {}): Call {
  return {
    kind: 'http',
    key: 'k1',
    method: 'GET',
    url: 'http://127.0.0.1:1/a',
    origin: 'http://127.0.0.1:1',
    target: 'http://127.0.0.1:1/a',
    headers: new Headers(),
    body: undefined,
    args: undefined,
    signal: undefined,
    cacheable: true,
    coalescible: true,
    retry: true,
    ttl: undefined,
    timeout: 0,
    deadline: undefined,
    idempotencyKey: undefined,
    cost: undefined,
    ...overrides,
  }
}

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

/** A StageContext that records every event, with a hand-set clock. */
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
    seen,
    time,
  }
}
