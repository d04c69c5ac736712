import type { StageContext } from '../context.js'
import { eventBase } from '../context.js'
import type { Stage } from '../pipeline.js'
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
 * door in `call.coalescible` and `call.key`; this stage only honors it.
 */
export function createCoalesceStage(ctx: StageContext): CoalesceStage {
  const flights = new SingleFlight()

  const stage: Stage = async (call, next) => {
    if (!call.coalescible) return next(call)
    const { outcome } = await flights.run(
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
    return outcome
  }

  return { stage, inFlight: () => flights.size }
}
