import { describe, expect, it } from 'vitest'
import { livePolls, nextPoll, quickPolls } from '../../src/coalesce/polls.js'

const none = Number.POSITIVE_INFINITY

describe('nextPoll', () => {
  it('grows by half from the first delay up to the last', () => {
    const delays = [0, 1, 2, 3, 4, 5, 6, 7].map((n) => nextPoll(quickPolls, n, none, none))
    expect(delays).toEqual([20, 30, 45, 67.5, 101.25, 151.875, 200, 200])
  })

  it('polls only as a slow safety net while notifications come', () => {
    const delays = [0, 1, 2, 3, 4, 5].map((n) => nextPoll(livePolls, n, none, none))
    expect(delays).toEqual([250, 375, 562.5, 843.75, 1_000, 1_000])
  })

  it('looks just past the end of the lease it saw, when that comes first', () => {
    expect(nextPoll(livePolls, 4, 120, none)).toBe(125)
    expect(nextPoll(livePolls, 0, 0, none)).toBe(5)
    expect(nextPoll(quickPolls, 0, 2_000, none)).toBe(20)
  })

  it('never sleeps past the call deadline, nor a negative time', () => {
    expect(nextPoll(livePolls, 4, none, 40)).toBe(40)
    expect(nextPoll(livePolls, 4, none, -10)).toBe(0)
  })
})
