import type { Call } from './call.js'
import type { Clock, Timers } from './clock.js'
import type { Events } from './events.js'
import type { Counters } from './stats.js'

/** What every stage of one instance shares: its counters, its events, its clock and timers. */
export interface StageContext {
  readonly counters: Counters
  readonly events: Events
  readonly clock: Clock
  /** What every stage waits with; see `Timers` for the waits that stay on the wall clock. */
  readonly timers: Timers
}

/**
 * Counts and reports a call whose shared `part` fell back to the in-process one because Redis
 * failed it.
 */
export function reportFallback(
  ctx: StageContext,
  call: Call,
  part: 'lease' | 'record' | 'bucket',
  error: unknown,
): void {
  ctx.counters.redisFallbacks++
  if (ctx.events.wants('redisFallback')) {
    ctx.events.emit({ type: 'redisFallback', ...eventBase(call), part, error })
  }
}

/** The fields every event about a call carries; none of them can hold a credential. */
export function eventBase(call: Call): { key: string; method: string; target: string } {
  return { key: call.key, method: call.method, target: call.target }
}
