import { describe, expect, it } from 'vitest'
import { type StopInput, stopReason } from '../../src/retry/stop.js'

/** A failure that may be retried: every limit has room to spare. */
function input(overrides: Partial<StopInput> = {}): StopInput {
  return {
    attempt: 1,
    maxAttempts: 3,
    resendable: true,
    beforeSend: false,
    retryAfter: undefined,
    maxRetryAfter: 60_000,
    now: 1_000,
    delay: 100,
    deadline: undefined,
    budgetAllows: () => true,
    ...overrides,
  }
}

/** Every limit spent at once: the order alone decides which names the give-up. */
const allSpent: Partial<StopInput> = {
  attempt: 3,
  resendable: false,
  retryAfter: 120_000,
  deadline: 1_050,
  budgetAllows: () => false,
}

describe('stopReason', () => {
  it('lets another attempt go when no limit applies', () => {
    expect(stopReason(input())).toBeUndefined()
  })

  it('stops when the attempts ran out', () => {
    expect(stopReason(input({ attempt: 3 }))).toBe('attempts')
    expect(stopReason(input({ attempt: 2 }))).toBeUndefined()
  })

  it('stops a call that is not resendable once it may have reached the server', () => {
    expect(stopReason(input({ resendable: false }))).toBe('notIdempotent')
  })

  it('sends a call that is not resendable again when it failed before sending', () => {
    expect(stopReason(input({ resendable: false, beforeSend: true }))).toBeUndefined()
  })

  it('stops when the server asks a wait above maxRetryAfter, and not at it', () => {
    expect(stopReason(input({ retryAfter: 60_001 }))).toBe('retryAfter')
    expect(stopReason(input({ retryAfter: 60_000 }))).toBeUndefined()
  })

  it('stops when the wait would pass the deadline, and not when it ends on it', () => {
    expect(stopReason(input({ deadline: 1_099 }))).toBe('deadline')
    expect(stopReason(input({ deadline: 1_100 }))).toBeUndefined()
  })

  it('stops when the budget has no retry left', () => {
    expect(stopReason(input({ budgetAllows: () => false }))).toBe('budget')
  })

  it('tries the limits in order: attempts, idempotency, retry-after, deadline, budget', () => {
    expect(stopReason(input(allSpent))).toBe('attempts')
    expect(stopReason(input({ ...allSpent, attempt: 1 }))).toBe('notIdempotent')
    expect(stopReason(input({ ...allSpent, attempt: 1, resendable: true }))).toBe('retryAfter')
    const withinRetryAfter = { ...allSpent, attempt: 1, resendable: true, retryAfter: 10 }
    expect(stopReason(input(withinRetryAfter))).toBe('deadline')
    expect(stopReason(input({ ...withinRetryAfter, deadline: undefined }))).toBe('budget')
  })

  it('asks the budget only when nothing else stops the call, since asking spends a retry', () => {
    let asked = 0
    const budgetAllows = () => {
      asked++
      return true
    }
    for (const overrides of [
      { attempt: 3 },
      { resendable: false },
      { retryAfter: 120_000 },
      { deadline: 1_050 },
    ]) {
      stopReason(input({ ...overrides, budgetAllows }))
    }
    expect(asked).toBe(0)
    expect(stopReason(input({ budgetAllows }))).toBeUndefined()
    expect(asked).toBe(1)
  })
})
