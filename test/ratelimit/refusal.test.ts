import { describe, expect, it } from 'vitest'
import { resolveRateLimit } from '../../src/ratelimit/options.js'
import { type RefusalCause, refuse, tightestWait } from '../../src/ratelimit/refusal.js'
import { makeCall, makeContext } from '../helpers/call.js'

const buckets = resolveRateLimit([
  { name: 'slow', perSecond: 1, maxWait: 5_000 },
  { name: 'fast', perSecond: 10, maxWait: 200 },
])
const [slow] = buckets as [(typeof buckets)[number]]
const bound = tightestWait(buckets)
const cause: RefusalCause = { bound, byDeadline: false, maxWait: 200 }
const refused = {
  granted: false,
  retryAfter: 999.2,
  bucket: 'slow',
  exceedsCapacity: false,
} as const

describe('tightestWait', () => {
  it("is the least maxWait of the buckets, 0 for one in 'reject' mode", () => {
    expect([bound.wait, bound.bucket.name]).toEqual([200, 'fast'])
    const rejecting = resolveRateLimit([...buckets, { name: 'no', perSecond: 1, mode: 'reject' }])
    expect(tightestWait(rejecting).wait).toBe(0)
  })
})

describe('refuse', () => {
  it('counts and reports the refusal, and says what bound it met', () => {
    const ctx = makeContext()
    const error = refuse(ctx, makeCall(), slow, [], refused, cause)
    expect(error.retryAfter).toBe(1_000)
    expect(error.message).toBe(
      'rate-limit bucket "slow" could admit this call in 1000 ms, past the maxWait of bucket "fast" (200 ms)',
    )
    expect(ctx.counters.rateLimitRejects).toBe(1)
    expect(ctx.seen.map((e) => e.type)).toEqual(['rateLimited'])
  })

  it('names the deadline, the capacity or the full partitions when they were the reason', () => {
    const ctx = makeContext()
    const call = makeCall()
    const byDeadline = refuse(ctx, call, slow, [], refused, { ...cause, byDeadline: true })
    expect(byDeadline.message).toMatch(/past the call's deadline \(200 ms away\)$/)
    const requests = [{ bucket: slow, key: 'k', cost: 9 }]
    const dear = refuse(ctx, call, slow, requests, { ...refused, exceedsCapacity: true }, cause)
    expect(dear.message).toMatch(/it costs 9, above the bucket's capacity of 1$/)
    const full = refuse(ctx, call, slow, [], { ...refused, maxKeys: 3 }, cause)
    expect(full.message).toMatch(/all of its 3 partitions \(maxKeys\)/)
    expect(ctx.counters.partitionRejects).toBe(1)
    expect(ctx.seen.filter((e) => e.type === 'partitionsFull')).toHaveLength(1)
  })
})
