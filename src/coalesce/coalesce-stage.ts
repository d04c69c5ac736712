import type { StageContext } from '../core/context.js'
import { eventBase } from '../core/context.js'
import type { Outcome } from '../core/outcome.js'
import { discard } from '../core/outcome.js'
import type { Stage } from '../core/stage.js'
import { setsCookie } from '../http/headers.js'
import { sameVaryingFields, varyOf } from '../http/vary.js'
import { SingleFlight } from './single-flight.js'

/** The coalescing stage and a count of what it has in flight, for `stats().inFlight`. */
export interface CoalesceStage {
  readonly stage: Stage
  /** Upstream calls in flight now that identical calls may join. */
  inFlight(): number
}

/**
 * Lets identical concurrent calls share one trip down the chain. Which calls may be merged
 * (safe methods, one idempotency key, never two sets of credentials) is decided by the front
 * door in `call.coalescible` and `call.key`; this stage only honors it. What may be shared is
 * decided here: an answer that sets a cookie (the rule that keeps it out of the cache), or that
 * varies on a request field the joined caller sent otherwise, goes to the caller whose request
 * produced it alone, and the callers who joined go down on their own.
 */
export function createCoalesceStage(ctx: StageContext): CoalesceStage {
  const flights = new SingleFlight()
  // The request headers each shared answer was fetched with, to check its `Vary` against.
  const fetchedWith = new WeakMap<Outcome, Headers | undefined>()

  const stage: Stage = async (call, next) => {
    if (!call.coalescible) return next(call)
    const { outcome, joined } = await flights.run(
      call.key,
      call.signal,
      // The flight outlives any one caller, so below this stage it runs on its own signal.
      async (signal) => {
        const fetched = await next({ ...call, signal })
        fetchedWith.set(fetched, call.details.headers)
        return fetched
      },
      (waiters) => {
        ctx.counters.coalesced++
        if (ctx.events.wants('coalesced')) {
          ctx.events.emit({ type: 'coalesced', ...eventBase(call), waiters })
        }
      },
    )
    if (!joined || !(setsCookie(outcome) || variesFrom(outcome, call.details.headers))) {
      return outcome
    }
    discard(outcome)
    // It joined, yet it saves no upstream call: `coalesced` counts only the calls that did.
    ctx.counters.coalesced--
    return next(call)
  }

  /**
   * The answer varies on a request field the joined caller sent otherwise than the caller
   * whose request fetched it (or on `*`): it is that request's answer, not this one's. A teed
   * stream is a copy the map does not know, so a varying one is not shared either.
   */
  const variesFrom = (outcome: Outcome, headers: Headers | undefined): boolean => {
    if (outcome.kind !== 'http') return false
    const vary = varyOf(outcome)
    if (vary !== '*' && vary.length === 0) return false
    if (!fetchedWith.has(outcome)) return true
    return !sameVaryingFields(vary, fetchedWith.get(outcome), headers)
  }

  return { stage, inFlight: () => flights.size }
}
