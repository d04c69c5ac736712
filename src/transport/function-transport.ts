import type { Call } from '../core/call.js'
import type { ValueOutcome } from '../core/outcome.js'
import type { Next } from '../core/stage.js'
import type { Counters } from '../core/stats.js'

/**
 * Calls the wrapped function (or the one the call's pool target names) once with the call's
 * arguments, once `call.beforeSend` has settled; what it throws goes up as is.
 */
export function createFunctionTransport(
  fn: (...args: never[]) => unknown,
  counters: Counters,
): Next {
  return async (call: Call): Promise<ValueOutcome> => {
    if (call.kind !== 'value') throw new TypeError('the function transport calls functions only')
    counters.upstreamCalls++
    if (call.beforeSend !== undefined) await call.beforeSend()
    const value = await (call.fn ?? fn)(...(call.args as never[]))
    return { kind: 'value', value }
  }
}
