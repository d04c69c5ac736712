import type { Call, Next, ValueOutcome } from '../pipeline.js'
import type { Counters } from '../stats.js'

/** Calls the wrapped function once with the call's arguments; what it throws goes up as is. */
export function createFunctionTransport(
  fn: (...args: never[]) => unknown,
  counters: Counters,
): Next {
  return async (call: Call): Promise<ValueOutcome> => {
    counters.upstreamCalls++
    const value = await fn(...((call.args ?? []) as never[]))
    return { kind: 'value', value }
  }
}
