import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { maxServerWaitMs, maxTimerMs } from '../../src/core/validate.js'
import type {
  BucketRequest,
  BucketSpec,
  BucketStore,
  BucketTarget,
} from '../../src/ratelimit/bucket-store.js'

/** A store to test, and how to move its clock when it takes one. */
export interface StoreUnderTest {
  readonly store: BucketStore
  /**
   * Moves the store's clock forward by `ms`. A store on a clock of its own (Redis' `TIME`)
   * leaves it out, and the suite waits in real time instead: its budgets are sized for that.
   */
  readonly advance?: (ms: number) => void
  /**
   * How the store says every answer was decided when not by itself: `'fallback'` for a
   * fallback store whose shared side fails. Left out, an answer must carry no `degraded`.
   */
  readonly degraded?: 'fallback'
}

// One token every 50 ms: real waits stay short, and 40 ms of slack covers a slow round trip.
const rate = 20
const slack = 40

/** `value` is `expected` ms, give or take the time the suite's own steps took. */
function near(value: number, expected: number): void {
  expect(value).toBeGreaterThan(expected - slack)
  expect(value).toBeLessThanOrEqual(expected + 1)
}

/**
 * What every `BucketStore` must do, run against each implementation (memory here, Redis in its
 * own file). Every test uses buckets and keys of its own, so a shared server needs no cleanup.
 */
export function bucketStoreConformance(
  name: string,
  makeStore: () => StoreUnderTest | Promise<StoreUnderTest>,
): void {
  describe(`BucketStore conformance: ${name}`, () => {
    let store: BucketStore
    let advance: ((ms: number) => void) | undefined
    let degraded: 'fallback' | undefined
    const pass = async (ms: number) => (advance ? advance(ms) : await sleep(ms))
    /** `store.acquire`, checking that the answer says how it was decided, as it should. */
    const acquire = async (requests: readonly BucketRequest[], maxWait: number) => {
      const { degraded: by, ...acquired } = await store.acquire(requests, maxWait)
      expect(by?.by).toBe(degraded)
      return acquired
    }
    const bucket = (capacity: number): BucketSpec => ({
      name: `b-${randomUUID()}`,
      capacity,
      refillPerSecond: rate,
    })
    const target = (capacity: number): BucketTarget => ({
      bucket: bucket(capacity),
      key: randomUUID(),
    })
    const take = (t: BucketTarget, cost = 1, maxWait = 0) => acquire([{ ...t, cost }], maxWait)
    const drain = async (t: BucketTarget) => {
      const got = await take(t, t.bucket.capacity)
      expect(got).toMatchObject({ granted: true, wait: 0 })
    }

    beforeEach(async () => {
      ;({ store, advance, degraded } = await makeStore())
    })
    afterEach(async () => {
      await store.close()
    })

    it('admits a burst up to the capacity at once and refuses the next call', async () => {
      const t = target(3)
      for (let i = 0; i < 3; i++) expect(await take(t)).toMatchObject({ granted: true, wait: 0 })
      const refused = await take(t)
      expect(refused).toMatchObject({
        granted: false,
        bucket: t.bucket.name,
        exceedsCapacity: false,
      })
      if (!refused.granted) near(refused.retryAfter, 50)
    })

    it('refills at the configured rate, up to the capacity and no more', async () => {
      const t = target(3)
      await drain(t)
      await pass(120)
      expect(await take(t, 2)).toMatchObject({ granted: true, wait: 0 })
      await pass(1_000)
      expect(await store.balance(t)).toBe(3)
    })

    it('debits every bucket of a call together, or none of them', async () => {
      const wide = target(3)
      const narrow = target(2)
      await drain(narrow)
      const refused = await acquire(
        [
          { ...wide, cost: 2 },
          { ...narrow, cost: 1 },
        ],
        0,
      )
      expect(refused).toMatchObject({ granted: false, bucket: narrow.bucket.name })
      expect(await store.balance(wide)).toBe(3)
      expect(await take(wide, 3)).toMatchObject({ granted: true, wait: 0 })
    })

    it('refuses a cost above the capacity for good and debits nothing', async () => {
      const other = target(3)
      const small = target(2)
      const refused = await acquire(
        [
          { ...other, cost: 1 },
          { ...small, cost: 3 },
        ],
        60_000,
      )
      expect(refused).toEqual({
        granted: false,
        bucket: small.bucket.name,
        exceedsCapacity: true,
        retryAfter: Number.POSITIVE_INFINITY,
      })
      expect(await store.balance(other)).toBe(3)
      expect(await store.balance(small)).toBe(2)
    })

    it('grants waiting callers their starts in arrival order', async () => {
      const t = target(1)
      await drain(t)
      const waits: number[] = []
      for (let i = 0; i < 3; i++) {
        const got = await take(t, 1, 60_000)
        if (!got.granted) throw new Error('a waiting caller was refused')
        waits.push(got.wait)
      }
      near(waits[0] as number, 50)
      near(waits[1] as number, 100)
      near(waits[2] as number, 150)
    })

    it('refuses a start beyond maxWait and debits nothing for it', async () => {
      const t = target(1)
      await drain(t)
      expect(await take(t, 1, 20)).toMatchObject({ granted: false })
      const got = await take(t, 1, 60_000)
      if (!got.granted) throw new Error('refused')
      near(got.wait, 50)
    })

    it('gives a refunded reservation to the next caller', async () => {
      const t = target(1)
      await drain(t)
      const first = await take(t, 1, 60_000)
      if (!first.granted) throw new Error('refused')
      await store.refund(first.reservation)
      const next = await take(t, 1, 60_000)
      if (!next.granted) throw new Error('refused')
      near(next.wait, 50)
    })

    it('lets adjust take a bucket into debt, and refund it only up to the capacity', async () => {
      const t = target(2)
      await store.adjust(t, -4)
      const debt = await store.balance(t)
      expect(debt).toBeGreaterThanOrEqual(-2)
      expect(debt).toBeLessThan(-1)
      const got = await take(t, 1, 60_000)
      if (!got.granted) throw new Error('refused')
      near(got.wait, 150)
      const other = target(2)
      await store.adjust(other, 10)
      expect(await store.balance(other)).toBe(2)
    })

    it('pauses the named buckets, and only those, for the time given', async () => {
      const t = target(5)
      const elsewhere = { bucket: t.bucket, key: randomUUID() }
      await store.pause([t], 200)
      const refused = await take(t)
      expect(refused).toMatchObject({ granted: false, exceedsCapacity: false })
      if (!refused.granted) near(refused.retryAfter, 200)
      const waiting = await take(t, 1, 60_000)
      if (!waiting.granted) throw new Error('refused')
      near(waiting.wait, 200)
      expect(await take(elsewhere)).toMatchObject({ granted: true, wait: 0 })
      await pass(220)
      expect(await take(t)).toMatchObject({ granted: true, wait: 0 })
    })

    it('holds a pause to maxServerWaitMs, however long the server asked', async () => {
      const t = target(2)
      await store.pause([t], 99_999_999_000)
      const refused = await take(t)
      expect(refused).toMatchObject({ granted: false, exceedsCapacity: false })
      if (!refused.granted) near(refused.retryAfter, maxServerWaitMs)
    })

    it('holds a debt of any size to a finite wait', async () => {
      const t = target(2)
      await store.adjust(t, -Number.MAX_VALUE)
      expect(Number.isFinite(await store.balance(t))).toBe(true)
      const got = await take(t, 1, Number.POSITIVE_INFINITY)
      if (!got.granted) throw new Error('refused')
      // Full again maxTimerMs past empty (100 ms away): one token of two comes 50 ms before.
      near(got.wait, maxTimerMs + 50)
    })

    it('lowers a bucket to the server remaining, never raises it, and skips stale reports', async () => {
      const t = target(5)
      const at = Date.parse('2025-03-01T12:00:00Z')
      const between = async (low: number, high: number) => {
        const b = await store.balance(t)
        expect(b).toBeGreaterThanOrEqual(low)
        expect(b).toBeLessThan(high)
      }
      await store.lower([{ ...t, remaining: 1 }], at)
      await between(1, 3)
      await store.lower([{ ...t, remaining: 4 }], at + 1_000)
      await between(1, 3)
      await store.lower([{ ...t, remaining: 0 }], at - 1_000)
      await between(1, 3)
      await store.lower([{ ...t, remaining: 0 }], at + 2_000)
      await between(0, 1)
    })

    it('keeps the partitions of one bucket apart', async () => {
      const t = target(2)
      await drain(t)
      expect(await take({ bucket: t.bucket, key: randomUUID() }, 2)).toMatchObject({
        granted: true,
        wait: 0,
      })
      expect(await take(t)).toMatchObject({ granted: false })
    })
  })
}
