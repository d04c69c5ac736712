import {
  type Admission,
  admit,
  type BreakerState,
  closed,
  onFailure,
  onInconclusive,
  onSuccess,
} from './breaker-state.js'

/**
 * When a breaker opens and when it closes again: the rules a breaker applies to the state of
 * one scope. Pure, like the state machine beneath it: the caller passes `now` and stores what
 * comes back, so the same rules serve the breaker stage and Redis' own breaker.
 *
 * Consecutive failures is the one policy today. Another (a failure rate over a window, as
 * cockatiel's sampling breaker) would keep its counts in the closed state and reuse the rest.
 *
 * @example
 * const policy = consecutiveFailures({ failureThreshold: 5, halfOpenAfter: 10_000 })
 * const admission = policy.admit(state, clock.now())
 */
export interface BreakerPolicy {
  /**
   * The state of a scope that has seen nothing. A policy returns this very object, not a copy,
   * when a scope is back at rest, so that whoever stores states may drop it then.
   */
  readonly initial: BreakerState
  /** Whether a call may go through at `now`, and whether it is the half-open probe. */
  admit(state: BreakerState, now: number): Admission
  /** A call let through (`wasProbe` as `admit` said) succeeded at `now`. */
  onSuccess(state: BreakerState, now: number, wasProbe: boolean): BreakerState
  /** A call let through failed at `now`: the upstream looks unwell. */
  onFailure(state: BreakerState, now: number, wasProbe: boolean): BreakerState
  /** A call let through ended at `now` saying nothing about the upstream (an abort). */
  onInconclusive(state: BreakerState, now: number, wasProbe: boolean): BreakerState
}

export interface ConsecutiveFailuresSettings {
  /** Consecutive failed calls that open the breaker. */
  readonly failureThreshold: number
  /** ms the breaker stays open before one probe is let through. */
  readonly halfOpenAfter: number
}

/**
 * Opens after `failureThreshold` failures in a row, any success in between starting the count
 * again; `halfOpenAfter` ms later one probe decides whether it closes. See `breaker-state.ts`.
 */
export function consecutiveFailures(settings: ConsecutiveFailuresSettings): BreakerPolicy {
  const { failureThreshold, halfOpenAfter } = settings
  return {
    initial: closed,
    admit: (state, now) => admit(state, now, halfOpenAfter),
    onSuccess: (state, _now, wasProbe) => onSuccess(state, wasProbe),
    onFailure: (state, now, wasProbe) => onFailure(state, now, failureThreshold, wasProbe),
    onInconclusive: (state, _now, wasProbe) => onInconclusive(state, wasProbe),
  }
}
