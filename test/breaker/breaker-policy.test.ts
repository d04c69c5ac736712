import { describe, expect, it } from 'vitest'
import { type BreakerPolicy, consecutiveFailures } from '../../src/breaker/breaker-policy.js'
import { createBreakerStage } from '../../src/breaker/breaker-stage.js'
import type { BreakerState } from '../../src/breaker/breaker-state.js'
import { isCircuitOpenError } from '../../src/core/errors.js'
import { httpOutcome, makeCall, makeContext } from '../helpers/call.js'

const policy = consecutiveFailures({ failureThreshold: 3, halfOpenAfter: 1_000 })

/** Fails `count` admitted calls at `now`, from `state`. */
function failTimes(from: BreakerPolicy, state: BreakerState, count: number, now = 0) {
  let s = state
  for (let i = 0; i < count; i++) {
    const admission = from.admit(s, now)
    s = from.onFailure(admission.state, now, admission.probe)
  }
  return s
}

describe('consecutiveFailures', () => {
  it('starts at rest and lets calls through', () => {
    expect(policy.admit(policy.initial, 0)).toMatchObject({ allowed: true, probe: false })
  })

  it('opens after failureThreshold failures in a row', () => {
    expect(failTimes(policy, policy.initial, 2).name).toBe('closed')
    expect(failTimes(policy, policy.initial, 3)).toEqual({ name: 'open', openedAt: 0 })
  })

  it('goes back to its initial state on a success, which starts the count again', () => {
    const twice = failTimes(policy, policy.initial, 2)
    const rested = policy.onSuccess(twice, 0, false)
    expect(rested).toBe(policy.initial)
    expect(failTimes(policy, rested, 2).name).toBe('closed')
  })

  it('refuses while open, saying how long until the probe', () => {
    const open = failTimes(policy, policy.initial, 3)
    expect(policy.admit(open, 400)).toMatchObject({ allowed: false, retryAfter: 600 })
  })

  it('lets one probe through after halfOpenAfter and closes on its success', () => {
    const open = failTimes(policy, policy.initial, 3)
    const probe = policy.admit(open, 1_000)
    expect(probe).toMatchObject({ allowed: true, probe: true })
    expect(policy.admit(probe.state, 1_001)).toMatchObject({ allowed: false })
    expect(policy.onSuccess(probe.state, 1_010, true)).toBe(policy.initial)
  })

  it('opens again for another halfOpenAfter when the probe fails', () => {
    const probe = policy.admit(failTimes(policy, policy.initial, 3), 1_000)
    const reopened = policy.onFailure(probe.state, 1_200, true)
    expect(reopened).toEqual({ name: 'open', openedAt: 1_200 })
    expect(policy.admit(reopened, 2_199)).toMatchObject({ allowed: false, retryAfter: 1 })
  })

  it('hands the probe slot back when the probe says nothing', () => {
    const probe = policy.admit(failTimes(policy, policy.initial, 3), 1_000)
    const freed = policy.onInconclusive(probe.state, 1_001, true)
    expect(policy.admit(freed, 1_002)).toMatchObject({ allowed: true, probe: true })
  })

  it('lets another probe through when one is out past halfOpenAfter', () => {
    const probe = policy.admit(failTimes(policy, policy.initial, 3), 1_000)
    expect(policy.admit(probe.state, 2_000)).toMatchObject({ allowed: true, probe: true })
  })
})

describe('createBreakerStage with a policy', () => {
  it('opens and closes as the policy it is given says', async () => {
    const ctx = makeContext()
    // Opens on the first failure, whatever the options say.
    const eager = consecutiveFailures({ failureThreshold: 1, halfOpenAfter: 500 })
    const settings = { failureThreshold: 5, halfOpenAfter: 10_000, scope: () => 'all' }
    const stage = createBreakerStage(ctx, settings, eager)
    let status = 503
    const next = async () => httpOutcome(status)
    await stage(makeCall(), next)
    await expect(stage(makeCall(), next)).rejects.toSatisfy(isCircuitOpenError)
    ctx.time.now += 500
    status = 200
    await expect(stage(makeCall(), next)).resolves.toMatchObject({ status: 200 })
    expect(ctx.seen.map((e) => (e.type === 'breaker' ? `${e.from}>${e.to}` : e.type))).toEqual([
      'closed>open',
      'open>halfOpen',
      'halfOpen>closed',
    ])
  })
})
