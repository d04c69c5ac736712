import { afterEach, describe, expect, it } from 'vitest'
import type { Call } from '../../src/core/call.js'
import { breakwaterErrorOf, isRateLimitError, type RateLimitError } from '../../src/core/errors.js'
import type { Outcome } from '../../src/core/outcome.js'
import { maxServerWaitMs } from '../../src/core/validate.js'
import { MemoryBucketStore } from '../../src/ratelimit/memory-bucket-store.js'
import { type RateLimitBucketOptions, resolveRateLimit } from '../../src/ratelimit/options.js'
import { createRateLimitStage, type RateLimitStage } from '../../src/ratelimit/ratelimit-stage.js'
import { httpOutcome, makeCall, makeContext } from '../helpers/call.js'
import { createManualTime } from '../helpers/manual-time.js'

const origin = 'http://127.0.0.1:1'
const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length
let open: RateLimitStage[] = []

afterEach(async () => {
  await Promise.all(open.map((s) => s.close()))
  open = []
})

/** A stage over the buckets, on a hand-set clock: buckets refill only when the test says. */
function setup(options: RateLimitBucketOptions | RateLimitBucketOptions[]) {
  const ctx = makeContext()
  const buckets = resolveRateLimit(options)
  const store = new MemoryBucketStore({ clock: ctx.clock })
  const limiter = createRateLimitStage(ctx, buckets, store)
  open.push(limiter)
  let sent = 0
  const run = (call: Call = makeCall(), answer: () => Outcome = () => httpOutcome()) =>
    limiter.stage(call, async () => {
      sent++
      return answer()
    })
  const balance = (name: string, key = origin) => {
    const bucket = buckets.find((b) => b.name === name)
    if (bucket === undefined) throw new Error(`no bucket ${name}`)
    return store.balance({ bucket, key })
  }
  return { ctx, limiter, run, balance, sent: () => sent }
}

async function rejection(promise: Promise<unknown>): Promise<RateLimitError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  const found = breakwaterErrorOf(error)
  if (found !== error || !isRateLimitError(found)) {
    throw new Error(`expected a RateLimitError, got ${String(error)}`)
  }
  return found
}

describe('createRateLimitStage', () => {
  it('takes every attempt from every bucket, by the bucket cost or the call cost', async () => {
    const { run, balance } = setup([
      { name: 'rpm', perSecond: 10 },
      { name: 'tpm', perSecond: 1_000, cost: (call) => call.body?.byteLength ?? 0 },
    ])
    await run(makeCall({ body: new Uint8Array(300) }))
    expect([await balance('rpm'), await balance('tpm')]).toEqual([9, 700])
    await run(makeCall({ cost: { tpm: 50 } }))
    expect([await balance('rpm'), await balance('tpm')]).toEqual([8, 650])
    await run(makeCall({ cost: 2 }))
    expect([await balance('rpm'), await balance('tpm')]).toEqual([6, 648])
  })

  it('keeps one bucket per key', async () => {
    const { run, balance } = setup({ name: 'rpm', perSecond: 2, key: (call) => call.url })
    await run(makeCall({ url: `${origin}/a` }))
    await run(makeCall({ url: `${origin}/a` }))
    await run(makeCall({ url: `${origin}/b` }))
    expect(await balance('rpm', `${origin}/a`)).toBe(0)
    expect(await balance('rpm', `${origin}/b`)).toBe(1)
  })

  it('refuses a per-call cost that names no bucket, and a cost that is not a number ≥ 0', async () => {
    const { run, sent } = setup({ name: 'rpm', perSecond: 5, cost: () => Number.NaN })
    await expect(run(makeCall({ cost: { rmp: 1 } }))).rejects.toThrow(
      'breakwater.cost names no rate-limit bucket: "rmp"',
    )
    await expect(run()).rejects.toThrow('rateLimit "rpm" cost must be a finite number ≥ 0, got NaN')
    expect(sent()).toBe(0)
  })

  it('rejects a cost above the capacity at once, naming the bucket, the cost and the capacity', async () => {
    const { ctx, run, sent } = setup({ name: 'tokens', perSecond: 100, maxWait: 60_000 })
    const error = await rejection(run(makeCall({ cost: 150 })))
    expect(error.message).toBe(
      'rate-limit bucket "tokens" can never admit this call: it costs 150, above the bucket\'s capacity of 100',
    )
    expect(error.retryAfter).toBe(Number.POSITIVE_INFINITY)
    expect(sent()).toBe(0)
    expect(ctx.counters.rateLimitRejects).toBe(1)
    expect(ctx.seen).toContainEqual(
      expect.objectContaining({ type: 'rateLimited', bucket: 'tokens' }),
    )
  })

  it("refuses at once in 'reject' mode when tokens are short, and the refusal costs nothing", async () => {
    const { ctx, run, balance } = setup({ name: 'rpm', perSecond: 10, capacity: 1, mode: 'reject' })
    await run()
    const error = await rejection(run())
    expect(error.retryAfter).toBe(100)
    expect(error.message).toBe(
      'rate-limit bucket "rpm" could admit this call in 100 ms, and bucket "rpm" does not wait (mode \'reject\')',
    )
    expect(await balance('rpm')).toBe(0)
    ctx.time.now += 100
    await run()
    expect(ctx.counters).toMatchObject({ rateLimitRejects: 1, throttled: 0 })
  })

  it('makes a caller wait its granted time in arrival order, counted as throttled', async () => {
    const time = createManualTime()
    const t0 = time.now()
    const ctx = { ...makeContext(t0), clock: time, timers: time }
    const limiter = createRateLimitStage(
      ctx,
      resolveRateLimit({ name: 'rpm', perSecond: 100, capacity: 1 }),
      new MemoryBucketStore({ clock: time }),
    )
    open.push(limiter)
    const startedAt: number[] = []
    const answer = (n: number) => async () => {
      startedAt[n - 1] = time.now() - t0
      return httpOutcome()
    }
    const all = Promise.all([1, 2, 3].map((n) => limiter.stage(makeCall(), answer(n))))
    await time.advance(19)
    expect(startedAt).toEqual([0, 10])
    await time.advance(1)
    await all
    // Each one at its granted time and in the order it came.
    expect(startedAt).toEqual([0, 10, 20])
    expect(ctx.counters.throttled).toBe(2)
    const waits = ctx.seen.filter((e) => e.type === 'throttled').map((e) => e.wait)
    expect(waits).toEqual([10, 20])
  })

  it('fails with RateLimitError when the start is past maxWait', async () => {
    const { run, sent } = setup({ name: 'rpm', perSecond: 1, maxWait: 500 })
    await run()
    const error = await rejection(run())
    expect(error.message).toBe(
      'rate-limit bucket "rpm" could admit this call in 1000 ms, past the maxWait of bucket "rpm" (500 ms)',
    )
    expect(error.retryAfter).toBe(1_000)
    expect(sent()).toBe(1)
  })

  it("fails with RateLimitError when the start is past the call's deadline", async () => {
    const { ctx, run } = setup({ name: 'rpm', perSecond: 1 })
    await run()
    const error = await rejection(run(makeCall({ deadline: ctx.time.now + 300 })))
    expect(error.message).toContain("past the call's deadline (300 ms away)")
    expect(error.retryAfter).toBe(1_000)
  })

  it('refunds the tokens of a caller that aborts while waiting, and leaves no timer', async () => {
    const { run, balance } = setup({ name: 'rpm', perSecond: 1 })
    await run()
    const before = timers()
    const controller = new AbortController()
    const waiting = run(makeCall({ signal: controller.signal }))
    await Promise.resolve()
    expect(await balance('rpm')).toBe(-1)
    controller.abort(new Error('gave up'))
    await expect(waiting).rejects.toThrow('gave up')
    expect(await balance('rpm')).toBe(0)
    expect(timers()).toBe(before)
  })

  it('ends the waits on close() and gives their tokens back', async () => {
    const { limiter, run, balance } = setup({ name: 'rpm', perSecond: 1 })
    await run()
    const waiting = run()
    await new Promise((resolve) => setImmediate(resolve))
    await limiter.close()
    await expect(waiting).rejects.toThrow('breakwater closed while the call waited')
    expect(await balance('rpm')).toBe(0)
  })

  it('pauses every bucket of the call on a 429 with Retry-After', async () => {
    const { ctx, run } = setup([
      { name: 'rpm', perSecond: 10, mode: 'reject' },
      { name: 'tpm', perSecond: 1_000, key: () => 'org' },
    ])
    await run(makeCall(), () => httpOutcome(429, '', [['retry-after', '2']]))
    expect(ctx.seen.filter((e) => e.type === 'paused')).toEqual([
      expect.objectContaining({ bucket: 'rpm', pause: 2_000 }),
      expect.objectContaining({ bucket: 'tpm', pause: 2_000 }),
    ])
    expect((await rejection(run())).retryAfter).toBe(2_000)
    ctx.time.now += 2_000
    await run()
  })

  it('pauses for retry-after-ms, and for an empty limit reset when Retry-After is missing', async () => {
    const { ctx, run } = setup({ name: 'rpm', perSecond: 10, mode: 'reject' })
    await run(makeCall(), () => httpOutcome(429, '', [['retry-after-ms', '250']]))
    expect((await rejection(run())).retryAfter).toBe(250)
    ctx.time.now += 250
    await run(makeCall(), () =>
      httpOutcome(429, '', [
        ['x-ratelimit-remaining-tokens', '0'],
        ['x-ratelimit-reset-tokens', '1.5s'],
      ]),
    )
    expect((await rejection(run())).retryAfter).toBe(1_500)
  })

  // Each way a server can name a wait, asking for years: the bucket holds for an hour at most.
  const farOff: [string, [string, string][]][] = [
    ['Retry-After in seconds', [['retry-after', '99999999']]],
    ['Retry-After as a date in 9999', [['retry-after', 'Fri, 31 Dec 9999 23:59:59 GMT']]],
    ['retry-after-ms', [['retry-after-ms', '99999999999999']]],
    [
      'an OpenAI reset',
      [
        ['x-ratelimit-remaining-requests', '0'],
        ['x-ratelimit-reset-requests', '99999h'],
      ],
    ],
    [
      'an Anthropic reset',
      [
        ['anthropic-ratelimit-requests-remaining', '0'],
        ['anthropic-ratelimit-requests-reset', '9999-12-31T23:59:59Z'],
      ],
    ],
    ['an IETF RateLimit reset', [['ratelimit', '"default";r=0;t=99999999']]],
  ]
  for (const [form, headers] of farOff) {
    it(`holds a bucket for maxServerWaitMs at most when a 429 asks more by ${form}`, async () => {
      const { ctx, run } = setup({ name: 'rpm', perSecond: 10, mode: 'reject' })
      await run(makeCall(), () => httpOutcome(429, '', headers))
      expect(ctx.seen.filter((e) => e.type === 'paused')).toEqual([
        expect.objectContaining({ bucket: 'rpm', pause: maxServerWaitMs }),
      ])
      expect((await rejection(run())).retryAfter).toBe(maxServerWaitMs)
      ctx.time.now += maxServerWaitMs
      await run()
    })
  }

  it('refuses a new key while maxKeys partitions hold spent budget, and says so', async () => {
    const { ctx, run, balance } = setup({
      name: 'per-user',
      perSecond: 1,
      capacity: 2,
      maxKeys: 2,
      key: (call) => call.url,
    })
    const user = (name: string) => makeCall({ url: `${origin}/${name}` })
    await run(user('a'))
    ctx.time.now += 500
    await run(user('b'))
    const error = await rejection(run(user('c')))
    // a is full again 1 s after its call, 500 ms from now.
    expect(error.retryAfter).toBe(500)
    expect(error.message).toBe(
      'rate-limit bucket "per-user" holds spent budget in all of its 2 partitions (maxKeys), and this call\'s key is not one of them: a partition is full again in 500 ms',
    )
    expect(ctx.counters).toMatchObject({ partitionRejects: 1, rateLimitRejects: 1 })
    expect(ctx.seen).toContainEqual(
      expect.objectContaining({
        type: 'partitionsFull',
        bucket: 'per-user',
        maxKeys: 2,
        retryAfter: 500,
      }),
    )
    // Neither partition was forgotten to make room.
    expect(await balance('per-user', `${origin}/a`)).toBe(1.5)
    expect(await balance('per-user', `${origin}/b`)).toBe(1)
    ctx.time.now += 500
    await run(user('c'))
    expect(await balance('per-user', `${origin}/c`)).toBe(1)
    expect(await balance('per-user', `${origin}/b`)).toBe(1.5)
  })

  it('learns a pause from the error a wrapped function throws', async () => {
    const { ctx, run } = setup({ name: 'rpm', perSecond: 10, mode: 'reject' })
    const error = Object.assign(new Error('rate limited'), {
      status: 429,
      headers: { 'retry-after': '3' },
    })
    const call = makeCall({ kind: 'value', method: 'CALL', url: '', origin: 'sdk' })
    await expect(run(call, () => Promise.reject(error) as never)).rejects.toBe(error)
    expect(ctx.seen).toContainEqual(expect.objectContaining({ type: 'paused', pause: 3_000 }))
  })

  it('lowers the bucket that mirrors a reported limit, and only that one', async () => {
    const { run, balance } = setup([
      { name: 'rpm', perSecond: 10 },
      { name: 'tpm', perSecond: 1_000, cost: 10, serverLimit: 'tokens' },
      { name: 'local', perSecond: 10, serverLimit: false },
    ])
    await run(makeCall(), () =>
      httpOutcome(200, 'ok', [
        ['x-ratelimit-remaining-requests', '2'],
        ['x-ratelimit-remaining-tokens', '400'],
      ]),
    )
    expect(await balance('rpm')).toBe(2)
    expect(await balance('tpm')).toBe(400)
    expect(await balance('local')).toBe(9)
  })

  it('never raises a bucket from headers, and ignores a response older than the last', async () => {
    const { run, balance } = setup({ name: 'rpm', perSecond: 10 })
    const answer = (remaining: string, date: string) => () =>
      httpOutcome(200, 'ok', [
        ['date', date],
        ['x-ratelimit-remaining-requests', remaining],
      ])
    await run(makeCall(), answer('3', 'Sat, 01 Mar 2025 12:00:05 GMT'))
    expect(await balance('rpm')).toBe(3)
    await run(makeCall(), answer('100', 'Sat, 01 Mar 2025 12:00:06 GMT'))
    expect(await balance('rpm')).toBe(2)
    await run(makeCall(), answer('0', 'Sat, 01 Mar 2025 12:00:04 GMT'))
    expect(await balance('rpm')).toBe(1)
  })

  it('settles the estimate with actualCost: a refund, or a debt', async () => {
    const { ctx, run, balance } = setup({
      name: 'tpm',
      perSecond: 1_000,
      cost: 500,
      actualCost: (outcome) =>
        outcome.kind === 'http' ? Number(new TextDecoder().decode(outcome.body as Uint8Array)) : 0,
    })
    await run(makeCall(), () => httpOutcome(200, '120'))
    expect(await balance('tpm')).toBe(880)
    await run(makeCall(), () => httpOutcome(200, '2000'))
    expect(await balance('tpm')).toBe(-1_120)
    const error = await rejection(run(makeCall({ deadline: ctx.time.now })))
    expect(error.retryAfter).toBe(1_620)
  })

  it('adjusts a bucket by name into debt, and refuses an unknown name', async () => {
    const { limiter, balance } = setup({ name: 'rpm', perSecond: 10 })
    limiter.adjust('rpm', origin, -15)
    expect(await balance('rpm')).toBe(-5)
    expect(() => limiter.adjust('rmp', origin, 1)).toThrow(
      new RangeError('adjust: no rate-limit bucket is named "rmp"'),
    )
    expect(() => limiter.adjust('rpm', origin, Number.NaN)).toThrow(RangeError)
  })
})
