import type { Call } from './call.js'
import type { Outcome } from './outcome.js'

export type Next = (call: Call) => Promise<Outcome>
export type Stage = (call: Call, next: Next) => Promise<Outcome>

/** Chains stages outermost first; `terminal` is the transport. */
export function compose(stages: readonly Stage[], terminal: Next): Next {
  let next = terminal
  for (let i = stages.length - 1; i >= 0; i--) {
    const stage = stages[i] as Stage
    const inner = next
    next = (call) => stage(call, inner)
  }
  return next
}
