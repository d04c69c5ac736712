import { describe, expect, it } from 'vitest'
import { maxTimerMs } from '../../src/core/validate.js'
import { resolveRateLimit } from '../../src/ratelimit/options.js'
import { fullBucket, take } from '../../src/ratelimit/token-bucket.js'

describe('resolveRateLimit', () => {
  it('refuses a rate whose one token takes longer than a timer can wait, naming the option', () => {
    // At 1e-306 tokens/s the interval was Infinity and 0 · Infinity made NaN of the math.
    expect(() => resolveRateLimit({ name: 'tiny', refillPerSecond: 1e-306 })).toThrow(
      new RangeError(
        `rateLimit.refillPerSecond must be at least ${1_000 / maxTimerMs} (one token every ${maxTimerMs} ms at most), got 1e-306`,
      ),
    )
    expect(() => resolveRateLimit([{ name: 'monthly', perHour: 0.001 }])).toThrow(
      `rateLimit[0].perHour must be at least ${3_600_000 / maxTimerMs}`,
    )
    const [slowest] = resolveRateLimit({ name: 'slow', refillPerSecond: 1_000 / maxTimerMs })
    expect(slowest?.capacity).toBe(1)
  })

  it('refuses a capacity that takes longer than a timer can wait to refill', () => {
    expect(() => resolveRateLimit({ name: 'deep', perSecond: 1, capacity: 1e9 })).toThrow(
      new RangeError(
        `rateLimit.capacity must refill within ${maxTimerMs} ms at 1 tokens/s (at most ${maxTimerMs / 1_000}), got 1000000000`,
      ),
    )
    expect(() =>
      resolveRateLimit({ name: 'edge', perSecond: 1, capacity: maxTimerMs / 1_000 }),
    ).not.toThrow()
  })

  it('admits no call for nothing at the slowest accepted rate', () => {
    const [bucket] = resolveRateLimit({ name: 'slow', refillPerSecond: 1_000 / maxTimerMs })
    if (bucket === undefined) throw new Error('no bucket')
    const first = take([fullBucket], [1], [bucket], 0, 0)
    if (!first.granted) throw new Error('refused')
    const second = take(first.states, [1], [bucket], 0, 0)
    expect(second).toMatchObject({ granted: false, retryAfter: maxTimerMs })
    expect(take(first.states, [0], [bucket], 0, 0)).toMatchObject({ granted: true, wait: 0 })
  })

  it('bounds the partitions one process keeps with maxKeys, 10,000 unless told', () => {
    expect(resolveRateLimit({ name: 'a', perSecond: 1 })[0]?.maxKeys).toBe(10_000)
    expect(resolveRateLimit({ name: 'a', perSecond: 1, maxKeys: 5 })[0]?.maxKeys).toBe(5)
    expect(() => resolveRateLimit({ name: 'a', perSecond: 1, maxKeys: 0 })).toThrow(
      'rateLimit.maxKeys must be an integer ≥ 1, got 0',
    )
    expect(() => resolveRateLimit([{ name: 'a', perSecond: 1, maxKeys: 1e8 }])).toThrow(
      'rateLimit[0].maxKeys must be at most 10000000, got 100000000',
    )
  })
})
