import type { Clock } from './clock.js'
import type { Events } from './events.js'
import type { Call } from './pipeline.js'
import type { Counters } from './stats.js'

/** What every stage of one instance shares: its counters, its events and its clock. */
export interface StageContext {
  readonly counters: Counters
  readonly events: Events
  readonly clock: Clock
}

/** The fields every event about a call carries; none of them can hold a credential. */
export function eventBase(call: Call): { key: string; method: string; target: string } {
  return { key: call.key, method: call.method, target: call.target }
}
