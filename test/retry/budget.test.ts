import { describe, expect, it } from 'vitest'
import { RetryBudget } from '../../src/retry/budget.js'

const t0 = 1_700_000_000_000

/** How many retries the budget grants at `now` before it refuses. */
function drain(budget: RetryBudget, now: number): number {
  let granted = 0
  while (budget.tryRetry(now)) {
    granted++
    if (granted > 10_000) throw new Error('the budget never refused')
  }
  return granted
}

function calls(budget: RetryBudget, n: number, now: number): void {
  for (let i = 0; i < n; i++) budget.recordCall(now)
}

describe('RetryBudget', () => {
  it('grants retries up to the ratio of recent calls', () => {
    const budget = new RetryBudget({ ratio: 0.2, minPerSecond: 0 })
    calls(budget, 100, t0)
    expect(drain(budget, t0 + 500)).toBe(20)
  })

  it('grants minPerSecond retries in each second, even with no calls', () => {
    const budget = new RetryBudget({ ratio: 0.2, minPerSecond: 3 })
    expect(drain(budget, t0)).toBe(3)
    expect(drain(budget, t0 + 999)).toBe(0)
    expect(drain(budget, t0 + 1_000)).toBe(3)
  })

  it('grants the per-second floor once the ratio is spent', () => {
    const budget = new RetryBudget({ ratio: 0.1, minPerSecond: 2 })
    calls(budget, 40, t0)
    expect(drain(budget, t0)).toBe(4)
    expect(drain(budget, t0 + 1_000)).toBe(2)
  })

  it('forgets calls and retries older than ten seconds as the window slides', () => {
    const budget = new RetryBudget({ ratio: 0.5, minPerSecond: 0 })
    calls(budget, 10, t0)
    expect(drain(budget, t0)).toBe(5)
    calls(budget, 10, t0 + 5_000)
    expect(drain(budget, t0 + 5_000)).toBe(5)
    // Second 0 leaves the window: 10 calls and 5 retries remain, so nothing more is due.
    expect(drain(budget, t0 + 10_000)).toBe(0)
    // Second 5 leaves too: an empty window grants nothing without new calls.
    expect(drain(budget, t0 + 15_000)).toBe(0)
    calls(budget, 4, t0 + 15_000)
    expect(drain(budget, t0 + 15_000)).toBe(2)
  })

  it('keeps nothing from long ago after a long quiet spell', () => {
    const budget = new RetryBudget({ ratio: 1, minPerSecond: 0 })
    calls(budget, 50, t0)
    expect(drain(budget, t0 + 3_600_000)).toBe(0)
  })

  it('does not count slots a clock that stepped back left in the future', () => {
    const budget = new RetryBudget({ ratio: 1, minPerSecond: 0 })
    calls(budget, 50, t0 + 3_000)
    expect(drain(budget, t0)).toBe(0)
  })
})
