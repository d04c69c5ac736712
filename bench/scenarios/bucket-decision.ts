import { RateLimiterMemory } from 'rate-limiter-flexible'
import type { BucketRequest, BucketSpec } from '../../src/ratelimit/bucket-store.js'
import { MemoryBucketStore } from '../../src/ratelimit/memory-bucket-store.js'
import { type BucketState, fullBucket, take } from '../../src/ratelimit/token-bucket.js'
import { type Check, type Figures, measure, type Ratio, type Scenario } from '../scenario.js'

// Synchronous operations far below the timer's cost: measured in batches.
const batch = 4_096
// Budgets so large that no decision while measuring is a refusal: the figures are of grants.
const requests: BucketSpec = { name: 'requests', capacity: 1e9, refillPerSecond: 1e12 }
const tokens: BucketSpec = { name: 'tokens', capacity: 1e12, refillPerSecond: 1e15 }

/**
 * What one rate-limit decision costs in memory: the pure GCRA `take` over one bucket and over
 * two (requests and tokens, decided together), then the memory store's `acquire`, which adds
 * the partition lookup, beside a Map get+set floor and rate-limiter-flexible's memory limiter.
 */
export const bucketDecision: Scenario = {
  name: 'bucket-decision',
  description: 'one token-bucket decision in memory: pure take, store acquire, and a peer',
  async run(options) {
    const map = new Map<string, { n: number }>([['k', { n: 0 }]])
    let now = 1_000_000
    let one: BucketState[] = [fullBucket]
    let two: BucketState[] = [fullBucket, fullBucket]
    let refusals = 0
    const decide = (states: BucketState[], costs: number[], limits: BucketSpec[]) => {
      now += 0.001
      const d = take(states, costs, limits, now, 0)
      if (!d.granted) {
        refusals++
        return states
      }
      return d.states as BucketState[]
    }
    const store = new MemoryBucketStore()
    const oneRequest: BucketRequest[] = [{ bucket: requests, key: 'api-key-1', cost: 1 }]
    const twoRequests: BucketRequest[] = [
      { bucket: requests, key: 'api-key-1', cost: 1 },
      { bucket: tokens, key: 'api-key-1', cost: 1_200 },
    ]
    const rlf = new RateLimiterMemory({ points: 1e12, duration: 1 })

    const figures = await measure(
      [
        {
          name: 'Map get+set floor',
          role: 'floor',
          floor: 'Map get+set floor',
          batch,
          fn: () => map.set('k', { n: (map.get('k')?.n ?? 0) + 1 }),
        },
        {
          name: 'take, 1 bucket',
          role: 'subject',
          floor: 'Map get+set floor',
          batch,
          fn: () => {
            one = decide(one, [1], [requests])
          },
        },
        {
          name: 'take, 2 buckets',
          role: 'subject',
          floor: 'Map get+set floor',
          batch,
          fn: () => {
            two = decide(two, [1, 1_200], [requests, tokens])
          },
        },
        {
          name: 'store acquire, 1 bucket',
          role: 'subject',
          floor: 'Map get+set floor',
          batch,
          // The decision runs before acquire returns; the promise is only its envelope.
          fn: () => store.acquire(oneRequest, 0),
        },
        {
          name: 'store acquire, 2 buckets',
          role: 'subject',
          floor: 'Map get+set floor',
          batch,
          fn: () => store.acquire(twoRequests, 0),
        },
        {
          name: 'rate-limiter-flexible consume',
          role: 'peer',
          floor: 'Map get+set floor',
          batch,
          fn: () => rlf.consume('api-key-1', 1),
        },
      ],
      options,
    )

    const last = await store.acquire(twoRequests, 0)
    await store.close()
    const checks: Check[] = [
      {
        name: 'every pure decision was a grant',
        ok: refusals === 0,
        detail: `${refusals} refusals`,
      },
      {
        name: 'the store still grants at once after measuring',
        ok: last.granted && last.wait === 0,
        detail: last.granted ? `granted, wait ${last.wait} ms` : `refused by ${last.bucket}`,
      },
    ]
    return {
      name: bucketDecision.name,
      description: bucketDecision.description,
      figures,
      ratios: [
        underOneMicrosecond(figures, 'take, 2 buckets'),
        underOneMicrosecond(figures, 'store acquire, 1 bucket'),
        underOneMicrosecond(figures, 'store acquire, 2 buckets'),
      ],
      checks,
    }
  },
}

/** The goal is absolute: a decision under a microsecond. */
function underOneMicrosecond(figures: readonly Figures[], subject: string): Ratio {
  const found = figures.find((f) => f.subject === subject)
  if (found === undefined) throw new Error(`no subject ${subject}`)
  const value = found.meanNs / 1_000
  return { name: `${subject} / 1 µs`, value, goalBelow: 1, met: value < 1 }
}
