import { afterAll, describe, expect, it } from 'vitest'
import type { Clock, Timers } from '../../src/core/clock.js'
import type { StageContext } from '../../src/core/context.js'
import type { BucketStore } from '../../src/ratelimit/bucket-store.js'
import {
  createReadLags,
  lateBound,
  lateness,
  leastLateness,
} from '../../src/ratelimit/late-start.js'
import { MemoryBucketStore } from '../../src/ratelimit/memory-bucket-store.js'
import { resolveRateLimit } from '../../src/ratelimit/options.js'
import { createRateLimitStage, type RateLimitStage } from '../../src/ratelimit/ratelimit-stage.js'
import { RedisBucketStore } from '../../src/ratelimit/redis-bucket-store.js'
import { RedisConnection } from '../../src/redis/connection.js'
import { resolveRedis } from '../../src/redis/options.js'
import { httpOutcome, makeCall, makeContext } from '../helpers/call.js'
import { createManualTime } from '../helpers/manual-time.js'
import { realContext, redisUrl, testNamespace } from '../helpers/redis.js'
import { delay } from '../helpers/upstream.js'

const closing: { close(): Promise<void> }[] = []
afterAll(async () => {
  await Promise.all(closing.splice(0).map((c) => c.close()))
})

/** `timers` whose next timer fires `late` ms after it is due: the process woke up late. */
function wakingLate(timers: Timers): Timers & { late: number } {
  const late = {
    late: 0,
    setTimeout(fn: () => void, ms: number) {
      const handle = timers.setTimeout(fn, ms + late.late)
      late.late = 0
      return handle
    },
    clearTimeout: (handle: unknown) => timers.clearTimeout(handle),
  }
  return late
}

/** The methods of `store`, to build a store that does one of them differently. */
function storeOf(store: BucketStore): BucketStore {
  return {
    acquire: (requests, maxWait) => store.acquire(requests, maxWait),
    refund: (r) => store.refund(r),
    adjust: (t, d) => store.adjust(t, d),
    pause: (t, ms) => store.pause(t, ms),
    lower: (u, at) => store.lower(u, at),
    balance: (t) => store.balance(t),
    close: () => store.close(),
  }
}

/** `store` whose answers are read `stall()` ms late: the process was busy elsewhere. */
function readingLate(store: BucketStore, stall: () => number): BucketStore {
  return {
    ...storeOf(store),
    acquire: async (requests, maxWait) => {
      const acquired = await store.acquire(requests, maxWait)
      await delay(stall())
      return acquired
    },
  }
}

/** A connection of the test's own, under a namespace no other run or test uses. */
function connect(suite: string): RedisConnection {
  const options = resolveRedis({ url: redisUrl(), timeout: 2_000 })
  if (!options) throw new Error('redis expected')
  const connection = new RedisConnection(options, testNamespace(suite), realContext())
  closing.push(connection)
  return connection
}

/** Runs calls through `limiter` to an answer that counts them. */
function sending(limiter: RateLimitStage) {
  let count = 0
  return {
    run: () =>
      limiter.stage(makeCall(), async () => {
        count++
        return httpOutcome()
      }),
    count: () => count,
  }
}

/**
 * Two calls, one after the other, through a bucket on Redis whose `n`th answer (from 0) is read
 * `lateBy(n)` ms late; what they saw.
 */
async function twoOnRedis(
  suite: string,
  bucket: Parameters<typeof resolveRateLimit>[0],
  lateBy: (n: number) => number,
) {
  const ctx = realContext()
  let asked = 0
  const store = readingLate(new RedisBucketStore(connect(suite)), () => lateBy(asked++))
  const sent = sending(stageOn(ctx, bucket, store))
  await sent.run()
  await sent.run()
  return { ctx, sent: sent.count(), asked, lateStarts: ctx.counters.lateStarts }
}

function stageOn(
  ctx: StageContext,
  options: Parameters<typeof resolveRateLimit>[0],
  store: BucketStore,
  time?: Clock & Timers,
): RateLimitStage {
  const on = time === undefined ? ctx : { ...ctx, clock: time, timers: time }
  const stage = createRateLimitStage(on, resolveRateLimit(options), store)
  closing.push(stage)
  return stage
}

describe('lateBound', () => {
  it('is the time the tightest bucket takes to refill its burst, at least leastLateness', () => {
    const quota = { capacity: 5, refillPerSecond: 200 }
    const tokens = { capacity: 10_000, refillPerSecond: 1_000 }
    expect(lateBound([quota, tokens])).toBe(25)
    expect(lateBound([{ capacity: 1, refillPerSecond: 1_000 }])).toBe(leastLateness)
    expect(lateBound([{ capacity: 60, refillPerSecond: 1 }])).toBe(60_000)
  })
})

describe('createReadLags', () => {
  it('remembers the fastest lag, so that an answer read late does not become the norm', () => {
    const lags = createReadLags()
    expect(lags.note(3, 0)).toBe(3)
    expect(lags.note(-1, 10)).toBe(-1)
    expect(lags.note(140, 20)).toBe(-1)
    // Past the turn of a window the last one's fastest still counts.
    expect(lags.note(150, 5_010)).toBe(-1)
    // A stall that spans windows counts in the window it began in.
    expect(lags.note(20_000, 5_020)).toBe(-1)
  })

  it('takes clocks that drifted apart for the norm within two windows', () => {
    const lags = createReadLags()
    lags.note(1, 0)
    for (let at = 100; at < 10_000; at += 100) lags.note(30, at)
    expect(lags.note(30, 10_000)).toBe(30)
  })

  it('forgets a fastest lag older than two windows at once', () => {
    const lags = createReadLags()
    lags.note(1, 0)
    expect(lags.note(20, 60_000)).toBe(20)
  })
})

describe('lateness', () => {
  it('counts from the decision plus the wait granted', () => {
    expect(lateness(1_130, 1_002, 100)).toBe(28)
    expect(lateness(1_100, 1_002, 100)).toBe(-2)
  })
})

describe('createRateLimitStage: a missed start', () => {
  it('takes a new turn when its wait ended past the bound, behind the calls that went on time', async () => {
    const time = createManualTime()
    const t0 = time.now()
    const timers = wakingLate(time)
    const ctx = makeContext(t0)
    const store = new MemoryBucketStore({ clock: time })
    const limiter = stageOn(ctx, { name: 'rpm', perSecond: 100, capacity: 1 }, store, {
      now: () => time.now(),
      ...timers,
    })
    const startedAt: number[] = []
    const run = (n: number) =>
      limiter.stage(makeCall(), async () => {
        startedAt[n - 1] = time.now() - t0
        return httpOutcome()
      })
    const first = [run(1)]
    // The second call is granted 10 ms from now and wakes 30 ms past that; the third, granted
    // 20 ms from now, wakes on time.
    timers.late = 30
    first.push(run(2))
    first.push(run(3))
    await time.advance(40)
    await Promise.all(first)
    expect(startedAt).toEqual([0, 40, 20])
    expect(ctx.counters.lateStarts).toBe(1)
    expect(ctx.seen.filter((e) => e.type === 'lateStart')).toMatchObject([{ late: 30 }])
    // Its first turn stays spent: a call now waits behind its second one.
    const fourth = run(4)
    await time.advance(10)
    await fourth
    expect(startedAt[3]).toBe(50)
  })

  it('goes when its wait ended late by no more than the bound', async () => {
    const time = createManualTime()
    const timers = wakingLate(time)
    const ctx = makeContext(time.now())
    const limiter = stageOn(
      ctx,
      { name: 'rpm', perSecond: 100, capacity: 1 },
      new MemoryBucketStore({ clock: time }),
      { now: () => time.now(), ...timers },
    )
    const calls = [limiter.stage(makeCall(), async () => httpOutcome())]
    timers.late = 10
    calls.push(limiter.stage(makeCall(), async () => httpOutcome()))
    await time.advance(20)
    await Promise.all(calls)
    expect(ctx.counters).toMatchObject({ throttled: 1, lateStarts: 0 })
  })

  it('on Redis, takes a new turn when its answer was read past the bound', async () => {
    // The second answer is read 800 ms late, past the bound (5 tokens at 10 a second).
    const bucket = { name: 'rps', perSecond: 10, capacity: 5 }
    const { sent, asked, lateStarts } = await twoOnRedis('late-start', bucket, (n) =>
      n === 1 ? 800 : 0,
    )
    expect({ sent, asked, lateStarts }).toEqual({
      sent: 2,
      asked: 3,
      lateStarts: 1,
    })
  })

  it('on Redis, counts the wait from the decision: an answer read late has less of it left', async () => {
    // One token every 500 ms; the second call is granted about 500 ms and its answer is read
    // 300 ms late, within the bound (500 ms).
    const bucket = { name: 'rps', perSecond: 2, capacity: 1 }
    const { ctx, sent, lateStarts } = await twoOnRedis('wait-left', bucket, (n) =>
      n === 1 ? 300 : 0,
    )
    const [throttled] = ctx.seen.filter((e) => e.type === 'throttled')
    expect(throttled).toMatchObject({ type: 'throttled', bucket: 'rps' })
    expect((throttled as { wait: number }).wait).toBeLessThan(400)
    expect({ sent, lateStarts }).toEqual({
      sent: 2,
      lateStarts: 0,
    })
  })

  it("on Redis, never starts a call early when this process's clock steps forward", async () => {
    const ctx = makeContext()
    const store = new RedisBucketStore(connect('clock-step'))
    const limiter = stageOn(ctx, { name: 'rps', perSecond: 2, capacity: 1 }, store)
    const sent = sending(limiter)
    await sent.run()
    // The clock steps 3 s ahead (Redis' does not): the next call is granted about 500 ms and
    // waits all of it, though the lag of its answer looks 3 s longer.
    ctx.time.now += 3_000
    await sent.run()
    const [throttled] = ctx.seen.filter((e) => e.type === 'throttled')
    expect((throttled as { wait: number }).wait).toBeGreaterThan(400)
    expect({ sent: sent.count(), lateStarts: ctx.counters.lateStarts }).toEqual({
      sent: 2,
      lateStarts: 0,
    })
  })

  it('on Redis, goes late after missing maxMissed starts rather than spend its budget on turns', async () => {
    // Every answer but the first is read 800 ms late.
    const bucket = { name: 'rps', perSecond: 10, capacity: 5 }
    const { sent, asked, lateStarts } = await twoOnRedis('max-missed', bucket, (n) =>
      n === 0 ? 0 : 800,
    )
    expect({ sent, asked, lateStarts }).toEqual({
      sent: 2,
      asked: 5,
      lateStarts: 3,
    })
  })

  it('never counts an answer decided late as read late: an ask held on its way is no stall', async () => {
    const ctx = realContext()
    let asked = 0
    // The second ask is held 1.5 s before Redis sees it, past the bound (10 tokens at 10 a
    // second): Redis decides it that much later, and its answer is read on time.
    const redis = new RedisBucketStore(connect('held-ask'))
    const held: BucketStore = {
      ...storeOf(redis),
      acquire: async (requests, maxWait) => {
        if (asked++ === 1) await delay(1_500)
        return redis.acquire(requests, maxWait)
      },
    }
    const limiter = stageOn(ctx, { name: 'rps', perSecond: 10, capacity: 10 }, held)
    const sent = sending(limiter)
    await sent.run()
    await sent.run()
    expect({ sent: sent.count(), asked, lateStarts: ctx.counters.lateStarts }).toEqual({
      sent: 2,
      asked: 2,
      lateStarts: 0,
    })
  })
})
