/**
 * The circuit breaker as a pure state machine: no clock, no I/O. The stage passes `now` and the
 * thresholds in, and stores what comes back.
 */

/**
 * - `closed`: calls go through; `failures` counts consecutive failed calls.
 * - `open`: calls fail fast until `halfOpenAfter` ms past `openedAt`.
 * - `halfOpen`: one probe call at a time decides; `probeStartedAt` is when the probe now out
 *   was let through, `undefined` when none is out.
 */
export type BreakerState =
  | { readonly name: 'closed'; readonly failures: number }
  | { readonly name: 'open'; readonly openedAt: number }
  | { readonly name: 'halfOpen'; readonly probeStartedAt: number | undefined }

/** A breaker that has seen nothing, or whose last call succeeded. */
export const closed: BreakerState = { name: 'closed', failures: 0 }

/** What `admit` decided about one call. */
export interface Admission {
  readonly state: BreakerState
  readonly allowed: boolean
  /** The call is the half-open probe: its result alone decides whether the breaker closes. */
  readonly probe: boolean
  /** ms until a call may be let through again; 0 when this one was. */
  readonly retryAfter: number
}

function probe(now: number): Admission {
  return {
    state: { name: 'halfOpen', probeStartedAt: now },
    allowed: true,
    probe: true,
    retryAfter: 0,
  }
}

/**
 * Decides whether a call may go through at `now`. An open breaker past `halfOpenAfter` lets one
 * probe through; while it is out, everyone else is refused. A probe out for longer than
 * `halfOpenAfter` is presumed lost (a hung call with no timeout), and another is let through:
 * without that, one hung probe would keep the breaker refusing forever.
 */
export function admit(state: BreakerState, now: number, halfOpenAfter: number): Admission {
  switch (state.name) {
    case 'closed':
      return { state, allowed: true, probe: false, retryAfter: 0 }
    case 'open': {
      const wait = state.openedAt + halfOpenAfter - now
      if (wait <= 0) return probe(now)
      return { state, allowed: false, probe: false, retryAfter: wait }
    }
    case 'halfOpen': {
      if (state.probeStartedAt === undefined) return probe(now)
      const wait = state.probeStartedAt + halfOpenAfter - now
      if (wait <= 0) return probe(now)
      return { state, allowed: false, probe: false, retryAfter: wait }
    }
  }
}

/**
 * A call succeeded. Only the probe closes a half-open breaker: any other call finishing then
 * was let through before the breaker opened, and says nothing about the upstream now.
 */
export function onSuccess(state: BreakerState, wasProbe: boolean): BreakerState {
  if (state.name === 'closed') return state.failures === 0 ? state : closed
  if (state.name === 'halfOpen' && wasProbe) return closed
  return state
}

/**
 * A call failed at `now`. `failureThreshold` consecutive failures open a closed breaker; a
 * failed probe opens it again for another full `halfOpenAfter`. Late failures of calls let
 * through before the breaker opened change nothing.
 */
export function onFailure(
  state: BreakerState,
  now: number,
  failureThreshold: number,
  wasProbe: boolean,
): BreakerState {
  if (state.name === 'closed') {
    const failures = state.failures + 1
    return failures >= failureThreshold
      ? { name: 'open', openedAt: now }
      : { name: 'closed', failures }
  }
  if (state.name === 'halfOpen' && wasProbe) return { name: 'open', openedAt: now }
  return state
}

/**
 * A call ended without a verdict on the upstream (its caller aborted, or a local rate limit
 * refused it). A probe hands its slot back so that the next call may probe at once.
 */
export function onInconclusive(state: BreakerState, wasProbe: boolean): BreakerState {
  if (state.name === 'halfOpen' && wasProbe) return { name: 'halfOpen', probeStartedAt: undefined }
  return state
}
