import { describe, expect, it } from 'vitest'
import {
  admit,
  type BreakerState,
  closed,
  onFailure,
  onInconclusive,
  onSuccess,
} from '../../src/breaker/breaker-state.js'

const threshold = 3
const halfOpenAfter = 1_000

/** Applies `count` failures at `now` to `state`, as calls that were not probes. */
function fail(state: BreakerState, count: number, now = 0): BreakerState {
  let next = state
  for (let i = 0; i < count; i++) next = onFailure(next, now, threshold, false)
  return next
}

describe('admit', () => {
  it('lets every call through a closed breaker', () => {
    const admission = admit({ name: 'closed', failures: 2 }, 5, halfOpenAfter)
    expect(admission).toEqual({
      state: { name: 'closed', failures: 2 },
      allowed: true,
      probe: false,
      retryAfter: 0,
    })
  })

  it('refuses calls while open and says how long until the probe', () => {
    const admission = admit({ name: 'open', openedAt: 100 }, 400, halfOpenAfter)
    expect(admission.allowed).toBe(false)
    expect(admission.retryAfter).toBe(700)
    expect(admission.state).toEqual({ name: 'open', openedAt: 100 })
  })

  it('refuses the last millisecond before halfOpenAfter and lets one probe through at it', () => {
    const open: BreakerState = { name: 'open', openedAt: 100 }
    expect(admit(open, 1_099, halfOpenAfter)).toMatchObject({ allowed: false, retryAfter: 1 })
    expect(admit(open, 1_100, halfOpenAfter)).toEqual({
      state: { name: 'halfOpen', probeStartedAt: 1_100 },
      allowed: true,
      probe: true,
      retryAfter: 0,
    })
  })

  it('refuses everyone else while the probe is out', () => {
    const probing = admit({ name: 'open', openedAt: 0 }, 1_000, halfOpenAfter).state
    const other = admit(probing, 1_200, halfOpenAfter)
    expect(other).toEqual({ state: probing, allowed: false, probe: false, retryAfter: 800 })
  })

  it('lets another probe through once the one out has been out for halfOpenAfter', () => {
    const probing: BreakerState = { name: 'halfOpen', probeStartedAt: 1_000 }
    expect(admit(probing, 2_000, halfOpenAfter)).toEqual({
      state: { name: 'halfOpen', probeStartedAt: 2_000 },
      allowed: true,
      probe: true,
      retryAfter: 0,
    })
  })

  it('lets a probe through at once when the last one was handed back', () => {
    const admission = admit({ name: 'halfOpen', probeStartedAt: undefined }, 1_001, halfOpenAfter)
    expect(admission.allowed).toBe(true)
    expect(admission.probe).toBe(true)
    expect(admission.state).toEqual({ name: 'halfOpen', probeStartedAt: 1_001 })
  })
})

describe('onFailure', () => {
  it('counts failures below the threshold without opening', () => {
    expect(fail(closed, threshold - 1)).toEqual({ name: 'closed', failures: threshold - 1 })
  })

  it('opens at failureThreshold consecutive failures, at the time of the last one', () => {
    const state = onFailure(fail(closed, threshold - 1), 4_242, threshold, false)
    expect(state).toEqual({ name: 'open', openedAt: 4_242 })
  })

  it('opens on the first failure when the threshold is 1', () => {
    expect(onFailure(closed, 7, 1, false)).toEqual({ name: 'open', openedAt: 7 })
  })

  it('re-opens a half-open breaker when the probe fails, for a full halfOpenAfter from now', () => {
    const reopened = onFailure({ name: 'halfOpen', probeStartedAt: 1_000 }, 1_300, threshold, true)
    expect(reopened).toEqual({ name: 'open', openedAt: 1_300 })
    expect(admit(reopened, 2_299, halfOpenAfter).allowed).toBe(false)
    expect(admit(reopened, 2_300, halfOpenAfter).allowed).toBe(true)
  })

  it('ignores a late failure of a call let through before the breaker opened', () => {
    const probing: BreakerState = { name: 'halfOpen', probeStartedAt: 1_000 }
    expect(onFailure(probing, 1_100, threshold, false)).toBe(probing)
    const open: BreakerState = { name: 'open', openedAt: 500 }
    expect(onFailure(open, 900, threshold, false)).toBe(open)
  })
})

describe('onSuccess', () => {
  it('resets the count, so that only consecutive failures open the breaker', () => {
    const state = fail(onSuccess(fail(closed, threshold - 1), false), threshold - 1)
    expect(state).toEqual({ name: 'closed', failures: threshold - 1 })
  })

  it('closes a half-open breaker when the probe succeeds', () => {
    expect(onSuccess({ name: 'halfOpen', probeStartedAt: 1_000 }, true)).toEqual(closed)
  })

  it('keeps an open or half-open breaker as it is on a late success of an older call', () => {
    const probing: BreakerState = { name: 'halfOpen', probeStartedAt: 1_000 }
    expect(onSuccess(probing, false)).toBe(probing)
    const open: BreakerState = { name: 'open', openedAt: 500 }
    expect(onSuccess(open, false)).toBe(open)
  })
})

describe('onInconclusive', () => {
  it('hands the probe slot back without closing or opening', () => {
    const probing: BreakerState = { name: 'halfOpen', probeStartedAt: 1_000 }
    const released = onInconclusive(probing, true)
    expect(released).toEqual({ name: 'halfOpen', probeStartedAt: undefined })
    expect(admit(released, 1_001, halfOpenAfter).probe).toBe(true)
  })

  it('leaves the failure count of a closed breaker alone', () => {
    const state: BreakerState = { name: 'closed', failures: 2 }
    expect(onInconclusive(state, false)).toBe(state)
  })

  it('keeps the probe slot taken when a call that was not the probe ends', () => {
    const probing: BreakerState = { name: 'halfOpen', probeStartedAt: 1_000 }
    expect(onInconclusive(probing, false)).toBe(probing)
  })
})
