import { describe, expect, it } from 'vitest'
import { maxServerWaitMs, maxTimerMs } from '../../src/core/validate.js'
import {
  adjust,
  type BucketLimits,
  type BucketState,
  balance,
  fullBucket,
  isIdle,
  lower,
  pause,
  refund,
  take,
} from '../../src/ratelimit/token-bucket.js'

// 10 tokens a second (one every 100 ms), a burst of 5.
const small: BucketLimits = { capacity: 5, refillPerSecond: 10 }
// 1000 tokens a second, a burst of 1000: the tokens dimension of an LLM budget.
const tokens: BucketLimits = { capacity: 1_000, refillPerSecond: 1_000 }
const t0 = 1_000_000

function granted(states: BucketState[], costs: number[], limits: BucketLimits[], now: number) {
  const d = take(states, costs, limits, now, Number.POSITIVE_INFINITY)
  if (!d.granted) throw new Error('expected a grant')
  return d
}

/** Takes `n` single tokens at `now`, returning the state after them. */
function drain(state: BucketState, n: number, limits: BucketLimits, now: number): BucketState {
  let s = state
  for (let i = 0; i < n; i++) s = granted([s], [1], [limits], now).states[0] as BucketState
  return s
}

describe('take', () => {
  it('admits a burst up to the capacity at once, then refuses', () => {
    const s = drain(fullBucket, 5, small, t0)
    expect(balance(s, small, t0)).toBe(0)
    const d = take([s], [1], [small], t0, 0)
    expect(d).toMatchObject({ granted: false, retryAfter: 100, exceedsCapacity: false })
  })

  it('refills at the configured rate and never above the capacity', () => {
    const s = drain(fullBucket, 5, small, t0)
    expect(balance(s, small, t0 + 250)).toBe(2.5)
    expect(balance(s, small, t0 + 60_000)).toBe(5)
    expect(take([s], [2], [small], t0 + 199, 0).granted).toBe(false)
    expect(take([s], [2], [small], t0 + 200, 0).granted).toBe(true)
  })

  it('reserves a future start for a waiting caller and queues later arrivals behind it', () => {
    const s = drain(fullBucket, 5, small, t0)
    const first = granted([s], [1], [small], t0)
    const second = granted(first.states as BucketState[], [1], [small], t0)
    const third = granted(second.states as BucketState[], [2], [small], t0)
    expect([first.wait, second.wait, third.wait]).toEqual([100, 200, 400])
  })

  it('refuses a start beyond maxWait without touching the state', () => {
    const s = drain(fullBucket, 5, small, t0)
    const d = take([s], [3], [small], t0, 250)
    expect(d).toMatchObject({ granted: false, retryAfter: 300 })
  })

  it('admits all buckets of a call together or none', () => {
    const requests = drain(fullBucket, 4, small, t0)
    const d = take([requests, fullBucket], [1, 1_200], [small, tokens], t0, 0)
    expect(d).toMatchObject({ granted: false, binding: 1, exceedsCapacity: true })
    const low = granted([fullBucket], [900], [tokens], t0).states[0] as BucketState
    const refused = take([requests, low], [1, 200], [small, tokens], t0, 0)
    expect(refused).toMatchObject({ granted: false, binding: 1, retryAfter: 100 })
    const ok = granted([requests, low], [1, 100], [small, tokens], t0)
    expect(balance(ok.states[0] as BucketState, small, t0)).toBe(0)
    expect(balance(ok.states[1] as BucketState, tokens, t0)).toBe(0)
  })

  it('starts a call held by one bucket on all of them when the last allows', () => {
    const empty = drain(fullBucket, 5, small, t0)
    const d = granted([empty, fullBucket], [1, 10], [small, tokens], t0)
    expect(d).toMatchObject({ wait: 100, binding: 0 })
    // The tokens bucket counts the call as spent at its start: 990 left then, not earlier.
    expect(balance(d.states[1] as BucketState, tokens, t0 + 100)).toBe(990)
  })

  it('rejects a cost above the capacity whatever the wait', () => {
    const d = take([fullBucket], [6], [small], t0, Number.POSITIVE_INFINITY)
    expect(d).toEqual({
      granted: false,
      retryAfter: Number.POSITIVE_INFINITY,
      binding: 0,
      exceedsCapacity: true,
    })
  })

  it('admits a call of cost 0 while the bucket is empty', () => {
    const s = drain(fullBucket, 5, small, t0)
    expect(take([s], [0], [small], t0, 0)).toMatchObject({ granted: true, wait: 0 })
  })
})

describe('refund', () => {
  it('gives a reservation back so that a later caller gets its place', () => {
    const s = drain(fullBucket, 5, small, t0)
    const first = granted([s], [1], [small], t0)
    const back = refund(first.states[0] as BucketState, first.debits[0] as number)
    expect(granted([back], [1], [small], t0).wait).toBe(100)
  })

  it('never lifts the balance above the capacity', () => {
    const d = granted([fullBucket], [2], [small], t0)
    const back = refund(d.states[0] as BucketState, d.debits[0] as number)
    expect(balance(back, small, t0)).toBe(5)
    expect(isIdle(back, t0)).toBe(true)
  })
})

describe('adjust', () => {
  it('takes the balance into debt that later calls wait out', () => {
    const s = adjust(fullBucket, -8, small, t0)
    expect(balance(s, small, t0)).toBe(-3)
    expect(take([s], [1], [small], t0, Number.POSITIVE_INFINITY)).toMatchObject({ wait: 400 })
  })

  it('refunds tokens up to the capacity and no further', () => {
    const s = drain(fullBucket, 5, small, t0)
    expect(balance(adjust(s, 2, small, t0), small, t0)).toBe(2)
    expect(balance(adjust(s, 50, small, t0), small, t0)).toBe(5)
  })
})

describe('pause', () => {
  it('holds every call back until the pause ends, then admits the burst', () => {
    const s = pause(fullBucket, 1_000, t0)
    expect(take([s], [1], [small], t0, 0)).toMatchObject({ granted: false, retryAfter: 1_000 })
    let state = s
    const waits: number[] = []
    for (let i = 0; i < 6; i++) {
      const d = granted([state], [1], [small], t0)
      waits.push(d.wait)
      state = d.states[0] as BucketState
    }
    expect(waits).toEqual([1_000, 1_000, 1_000, 1_000, 1_000, 1_100])
  })

  it('never shortens a longer pause', () => {
    const s = pause(pause(fullBucket, 1_000, t0), 10, t0)
    expect(s.pausedUntil).toBe(t0 + 1_000)
    expect(isIdle(s, t0 + 999)).toBe(false)
    expect(isIdle(s, t0 + 1_000)).toBe(true)
  })
})

describe('lower', () => {
  it('lowers the balance to what the server has left', () => {
    const s = lower(fullBucket, 2, t0, small, t0)
    expect(balance(s, small, t0)).toBe(2)
  })

  it('never raises the balance above the local one', () => {
    const s = drain(fullBucket, 4, small, t0)
    expect(balance(lower(s, 5, t0, small, t0), small, t0)).toBe(1)
    expect(balance(lower(fullBucket, 500, t0, small, t0), small, t0)).toBe(5)
  })

  it('ignores a response older than the last one applied', () => {
    const s = lower(fullBucket, 3, t0 + 2_000, small, t0)
    expect(lower(s, 0, t0 + 1_000, small, t0)).toBe(s)
    expect(balance(lower(s, 1, t0 + 2_000, small, t0), small, t0)).toBe(1)
  })

  it('keeps refunds below what the server reported', () => {
    const d = granted([fullBucket], [1], [small], t0)
    const s = lower(d.states[0] as BucketState, 1, t0, small, t0)
    expect(balance(refund(s, d.debits[0] as number), small, t0)).toBe(1)
    expect(balance(adjust(s, 3, small, t0), small, t0)).toBe(1)
  })
})

describe('the math at the edges of what the options accept', () => {
  const slowest = 1_000 / maxTimerMs
  const edges: BucketLimits[] = [
    { capacity: 1, refillPerSecond: slowest },
    { capacity: Number.MIN_VALUE, refillPerSecond: slowest },
    { capacity: 2_147_483.647, refillPerSecond: 1 },
    { capacity: 1e300, refillPerSecond: 1e300 },
    { capacity: Number.MIN_VALUE, refillPerSecond: Number.MAX_VALUE },
    { capacity: Number.MAX_VALUE, refillPerSecond: Number.MAX_VALUE },
  ]
  const numbersOf = (s: BucketState) => [s.tat, s.pausedUntil, s.syncedAt, s.floor]
  const sane = (s: BucketState) => {
    for (const n of numbersOf(s)) expect(Number.isNaN(n)).toBe(false)
    // Only "never set" may be infinite.
    expect(s.tat).toBeLessThan(Number.POSITIVE_INFINITY)
    expect(s.pausedUntil).toBeLessThan(Number.POSITIVE_INFINITY)
  }

  for (const limits of edges) {
    it(`never yields NaN nor an endless bucket at capacity ${limits.capacity}, ${limits.refillPerSecond}/s`, () => {
      const now = 1.7e12
      for (const cost of [0, limits.capacity / 2, limits.capacity]) {
        for (const maxWait of [0, maxTimerMs, Number.POSITIVE_INFINITY]) {
          let state = fullBucket
          for (let i = 0; i < 3; i++) {
            const d = take([state], [cost], [limits], now, maxWait)
            if (!d.granted) {
              expect(Number.isFinite(d.retryAfter)).toBe(true)
              break
            }
            expect(Number.isFinite(d.wait)).toBe(true)
            expect(Number.isFinite(d.debits[0] as number)).toBe(true)
            state = d.states[0] as BucketState
            sane(state)
            sane(refund(state, d.debits[0] as number))
          }
        }
      }
      for (const delta of [
        -Number.MAX_VALUE,
        -limits.capacity,
        limits.capacity,
        Number.MAX_VALUE,
      ]) {
        const s = adjust(fullBucket, delta, limits, now)
        sane(s)
        expect(Number.isNaN(balance(s, limits, now))).toBe(false)
        expect(s.tat).toBeLessThanOrEqual(now + 2 * maxTimerMs)
      }
      for (const remaining of [0, limits.capacity, Number.MAX_VALUE, Number.POSITIVE_INFINITY]) {
        const s = lower(fullBucket, remaining, now, limits, now)
        sane(s)
        expect(Number.isNaN(balance(s, limits, now))).toBe(false)
      }
      const paused = pause(fullBucket, Number.MAX_VALUE, now)
      sane(paused)
      expect(paused.pausedUntil).toBe(now + maxServerWaitMs)
    })
  }

  it('waits out a debt of any size within maxTimerMs past empty', () => {
    const s = adjust(fullBucket, -Number.MAX_VALUE, small, t0)
    const d = take([s], [1], [small], t0, Number.POSITIVE_INFINITY)
    expect(d).toMatchObject({ granted: true, wait: maxTimerMs + 100 })
  })

  it('pauses for maxServerWaitMs at most, whatever the server asked', () => {
    const s = pause(fullBucket, 99_999_999_000, t0)
    expect(take([s], [1], [small], t0, 0)).toMatchObject({ retryAfter: maxServerWaitMs })
    expect(isIdle(s, t0 + maxServerWaitMs)).toBe(true)
  })
})
