import type { StageContext } from '../core/context.js'
import { eventBase } from '../core/context.js'
import { discard } from '../core/outcome.js'
import type { Stage } from '../core/stage.js'
import { setsCookie } from '../http/headers.js'
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
 * decided here: an answer that sets a cookie (the rule that keeps it out of the cache) goes to
 * the caller whose request produced it alone, and the callers who joined go down on their own.
 */
export function createCoalesceStage(ctx: StageContext): CoalesceStage {
  const flights = new SingleFlight()

  const stage: Stage = async (call, next) => {
    if (!call.coalescible) return next(call)
    const { outcome, joined } = await flights.run(
      call.key,
      call.signal,
      // The flight outlives any one caller, so below this stage it runs on its own signal.
      (signal) => next({ ...call, signal }),
      (waiters) => {
        ctx.counters.coalesced++
        if (ctx.events.wants('coalesced')) {
          ctx.events.emit({ type: 'coalesced', ...eventBase(call), waiters })
        }
      },
    )
    if (!joined || !setsCookie(outcome)) return outcome
    discard(outcome)
    // It joined, yet it saves no upstream call: `coalesced` counts only the calls that did.
    ctx.counters.coalesced--
    return next(call)
  }

  return { stage, inFlight: () => flights.size }
}
