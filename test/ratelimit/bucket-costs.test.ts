import { describe, expect, it } from 'vitest'
import { actualCostOf, createCallBuckets } from '../../src/ratelimit/bucket-costs.js'
import { type RateLimitBucketOptions, resolveRateLimit } from '../../src/ratelimit/options.js'
import { httpOutcome, makeCall } from '../helpers/call.js'

const options: RateLimitBucketOptions[] = [
  { name: 'rpm', perSecond: 10 },
  { name: 'tpm', perSecond: 1_000, cost: (call) => call.body?.byteLength ?? 0 },
]
const buckets = resolveRateLimit(options)
const byName = new Map(buckets.map((b) => [b.name, b]))
const requestsOf = createCallBuckets(buckets, byName)
const costs = (cost?: number | Record<string, number>) =>
  requestsOf(makeCall({ body: new Uint8Array(300), cost })).map((r) => [r.bucket.name, r.cost])

describe('createCallBuckets', () => {
  it("takes each bucket's own cost of the call, keyed by origin", () => {
    const requests = requestsOf(makeCall({ body: new Uint8Array(300) }))
    expect(requests.map((r) => [r.bucket.name, r.key, r.cost])).toEqual([
      ['rpm', 'http://127.0.0.1:1', 1],
      ['tpm', 'http://127.0.0.1:1', 300],
    ])
  })

  it('lets a per-call cost override every bucket, or those it names', () => {
    expect(costs(5)).toEqual([
      ['rpm', 5],
      ['tpm', 5],
    ])
    expect(costs({ tpm: 50 })).toEqual([
      ['rpm', 1],
      ['tpm', 50],
    ])
  })

  it('refuses a name that is no bucket, and a cost that is not a finite number ≥ 0', () => {
    expect(() => costs({ nope: 1 })).toThrow(/names no rate-limit bucket: "nope"/)
    expect(() => costs(-1)).toThrow(/rateLimit "rpm" cost must be a finite number ≥ 0, got -1/)
    expect(() => costs({ tpm: Number.NaN })).toThrow(/rateLimit "tpm" cost/)
  })
})

describe('actualCostOf', () => {
  const tpm: RateLimitBucketOptions = {
    name: 'tpm',
    perSecond: 1_000,
    actualCost: (outcome) => (outcome.kind === 'http' ? outcome.status : undefined),
  }
  const [bucket] = resolveRateLimit(tpm)

  it("answers the hook's number, or undefined to keep the estimate", () => {
    if (bucket === undefined) throw new Error('no bucket')
    expect(actualCostOf(bucket, httpOutcome(), makeCall().details)).toBe(200)
    const none = { ...bucket, actualCost: () => undefined }
    expect(actualCostOf(none, httpOutcome(), makeCall().details)).toBeUndefined()
  })

  it('throws on a hook that answers anything else', () => {
    if (bucket === undefined) throw new Error('no bucket')
    const bad = { ...bucket, actualCost: () => -1 }
    expect(() => actualCostOf(bad, httpOutcome(), makeCall().details)).toThrow(
      /actualCost must return a finite number ≥ 0 or undefined, got -1/,
    )
  })
})
