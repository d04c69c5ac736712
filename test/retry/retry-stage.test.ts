import { afterEach, describe, expect, it, vi } from 'vitest'
import { TimeoutError } from '../../src/errors.js'
import { Events } from '../../src/events.js'
import { type ResolvedRetry, type RetryOptions, resolveOptions } from '../../src/options.js'
import type { Call, HttpOutcome, Next, Outcome } from '../../src/pipeline.js'
import { createRetryStage } from '../../src/retry/retry-stage.js'
import { httpOutcome, makeCall, makeContext, textOf } from '../helpers/call.js'

/** Retry settings as the front doors resolve them, with waits short enough for real timers. */
function settings(options: RetryOptions = {}): ResolvedRetry {
  const retry = resolveOptions({
    retry: { baseDelay: 1, maxDelay: 2, jitter: 'none', ...options },
  }).retry
  if (retry === false) throw new Error('retry is on')
  return retry
}

type Step = Outcome | Error | (() => Promise<Outcome>)

/** A `next` that answers with each step in turn (the last one repeats) and records each call. */
function script(...steps: Step[]) {
  const sent: Call[] = []
  const next: Next = async (call) => {
    sent.push(call)
    const step = steps[Math.min(sent.length, steps.length) - 1]
    if (typeof step === 'function') return step()
    if (step instanceof Error) throw step
    if (step === undefined) throw new Error('empty script')
    return step
  }
  return { next, sent }
}

const netError = (code: string) =>
  new TypeError('fetch failed', { cause: Object.assign(new Error(code), { code }) })

/** An outcome whose body is live, and a flag that tells whether it was released. */
function liveOutcome(status: number): { outcome: HttpOutcome; cancelled: () => boolean } {
  let cancelled = false
  const body = new ReadableStream<Uint8Array>({
    cancel() {
      cancelled = true
    },
  })
  return { outcome: { ...httpOutcome(status), body }, cancelled: () => cancelled }
}

afterEach(() => {
  vi.useRealTimers()
})

describe('createRetryStage', () => {
  it('retries a 503 and returns the 200 that follows, reporting the retry', async () => {
    const ctx = makeContext()
    const { next, sent } = script(httpOutcome(503), httpOutcome(200, 'fine'))
    const outcome = await createRetryStage(ctx, settings())(makeCall(), next)
    expect(textOf(outcome)).toBe('fine')
    expect(sent).toHaveLength(2)
    expect(ctx.counters).toMatchObject({ retries: 1, giveUps: 0 })
    expect(ctx.seen).toEqual([
      expect.objectContaining({ type: 'retry', attempt: 1, delay: 1, reason: 'status 503' }),
    ])
  })

  it('returns a 400 at once, without retrying or giving up', async () => {
    const ctx = makeContext()
    const { next, sent } = script(httpOutcome(400, 'bad'), httpOutcome(200))
    const outcome = await createRetryStage(ctx, settings())(makeCall(), next)
    expect(textOf(outcome)).toBe('bad')
    expect(sent).toHaveLength(1)
    expect(ctx.counters).toMatchObject({ retries: 0, giveUps: 0 })
    expect(ctx.seen).toEqual([])
  })

  it('returns the last outcome and reports a give-up when the attempts run out', async () => {
    const ctx = makeContext()
    const { next, sent } = script(
      httpOutcome(502, 'one'),
      httpOutcome(502, 'two'),
      httpOutcome(502, 'three'),
    )
    const outcome = await createRetryStage(ctx, settings({ maxAttempts: 3 }))(makeCall(), next)
    expect(textOf(outcome)).toBe('three')
    expect(sent).toHaveLength(3)
    expect(ctx.counters).toMatchObject({ retries: 2, giveUps: 1 })
    expect(ctx.seen.at(-1)).toMatchObject({
      type: 'giveUp',
      attempts: 3,
      reason: 'status 502',
      key: 'k1',
    })
  })

  it('does not resend a non-idempotent call after a 503', async () => {
    const ctx = makeContext()
    const { next, sent } = script(httpOutcome(503), httpOutcome(200))
    const call = makeCall({ method: 'POST', retry: false })
    const outcome = await createRetryStage(ctx, settings())(call, next)
    expect(outcome).toMatchObject({ status: 503 })
    expect(sent).toHaveLength(1)
    expect(ctx.counters.giveUps).toBe(1)
  })

  it('resends a non-idempotent call refused before sending, but not after a reset', async () => {
    const call = makeCall({ method: 'POST', retry: false })
    const refused = script(netError('ECONNREFUSED'), httpOutcome(201))
    expect(await createRetryStage(makeContext(), settings())(call, refused.next)).toMatchObject({
      status: 201,
    })
    expect(refused.sent).toHaveLength(2)
    const reset = netError('ECONNRESET')
    const twice = script(reset, httpOutcome(201))
    await expect(createRetryStage(makeContext(), settings())(call, twice.next)).rejects.toBe(reset)
    expect(twice.sent).toHaveLength(1)
  })

  it('sets attempts on the error that ends the call', async () => {
    const error = netError('ECONNRESET')
    const { next } = script(error)
    await expect(
      createRetryStage(makeContext(), settings({ maxAttempts: 3 }))(makeCall(), next),
    ).rejects.toBe(error)
    expect((error as unknown as { attempts: number }).attempts).toBe(3)
    const final = new RangeError('bad input')
    await expect(
      createRetryStage(makeContext(), settings())(makeCall(), script(final).next),
    ).rejects.toBe(final)
    expect((final as unknown as { attempts: number }).attempts).toBe(1)
  })

  it('rethrows a frozen error untouched', async () => {
    const frozen = Object.freeze(new RangeError('frozen'))
    await expect(
      createRetryStage(makeContext(), settings())(makeCall(), script(frozen).next),
    ).rejects.toBe(frozen)
  })

  it('retries a timeout', async () => {
    const ctx = makeContext()
    const { next, sent } = script(new TimeoutError(50), httpOutcome(200))
    await createRetryStage(ctx, settings())(makeCall(), next)
    expect(sent).toHaveLength(2)
    expect(ctx.seen[0]).toMatchObject({ type: 'retry', reason: 'timeout' })
  })

  it('waits what Retry-After asks, about one second', async () => {
    vi.useFakeTimers()
    const ctx = makeContext()
    const { next, sent } = script(
      httpOutcome(503, 'busy', [['retry-after', '1']]),
      httpOutcome(200),
    )
    const pending = createRetryStage(ctx, settings())(makeCall(), next)
    await vi.advanceTimersByTimeAsync(999)
    expect(sent).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(1)
    expect(sent).toHaveLength(2)
    expect(await pending).toMatchObject({ status: 200 })
    expect(ctx.seen[0]).toMatchObject({ type: 'retry', delay: 1_000 })
  })

  it('uses the backoff instead when respectRetryAfter is off', async () => {
    const ctx = makeContext()
    const { next } = script(httpOutcome(503, 'busy', [['retry-after', '30']]), httpOutcome(200))
    await createRetryStage(ctx, settings({ respectRetryAfter: false }))(makeCall(), next)
    expect(ctx.seen[0]).toMatchObject({ type: 'retry', delay: 1 })
  })

  it('draws the jitter from the random it is given', async () => {
    const ctx = makeContext()
    const { next } = script(httpOutcome(503), httpOutcome(200))
    const retry = settings({ baseDelay: 4, maxDelay: 8, jitter: 'full' })
    await createRetryStage(ctx, retry, () => 0.25)(makeCall(), next)
    expect(ctx.seen[0]).toMatchObject({ type: 'retry', delay: 1 })
  })

  it('gives up at once with the response when Retry-After asks more than maxRetryAfter', async () => {
    const ctx = makeContext()
    const { next, sent } = script(
      httpOutcome(429, 'slow down', [['retry-after', '120']]),
      httpOutcome(200),
    )
    const outcome = await createRetryStage(ctx, settings())(makeCall(), next)
    expect(textOf(outcome)).toBe('slow down')
    expect(sent).toHaveLength(1)
    expect(ctx.seen).toEqual([
      expect.objectContaining({ type: 'giveUp', attempts: 1, reason: 'status 429' }),
    ])
  })

  it('starts no wait that would pass the deadline', async () => {
    const ctx = makeContext()
    const { next, sent } = script(
      httpOutcome(503, 'busy', [['retry-after', '1']]),
      httpOutcome(200),
    )
    const call = makeCall({ deadline: ctx.time.now + 500 })
    expect(await createRetryStage(ctx, settings())(call, next)).toMatchObject({ status: 503 })
    expect(sent).toHaveLength(1)
    expect(ctx.counters.giveUps).toBe(1)
  })

  it('measures the deadline on the instance clock at each failure', async () => {
    const ctx = makeContext()
    const late = async () => {
      ctx.time.now += 600
      return httpOutcome(503)
    }
    const { next, sent } = script(late)
    const call = makeCall({ deadline: ctx.time.now + 1_000 })
    await createRetryStage(ctx, settings())(call, next)
    expect(sent).toHaveLength(2)
  })

  it('gives up at once when the budget is spent', async () => {
    const ctx = makeContext()
    const { next, sent } = script(httpOutcome(503), httpOutcome(200))
    const retry = settings({ budget: { ratio: 0, minPerSecond: 0 } })
    expect(await createRetryStage(ctx, retry)(makeCall(), next)).toMatchObject({ status: 503 })
    expect(sent).toHaveLength(1)
    expect(ctx.counters).toMatchObject({ retries: 0, giveUps: 1 })
  })

  it('shares one budget between the calls of a stage', async () => {
    const ctx = makeContext()
    const stage = createRetryStage(
      ctx,
      settings({ maxAttempts: 2, budget: { ratio: 0.5, minPerSecond: 0 } }),
    )
    for (let i = 0; i < 4; i++) await stage(makeCall(), script(httpOutcome(503)).next)
    expect(ctx.counters).toMatchObject({ retries: 2, giveUps: 4 })
  })

  it('ignores the budget when it is off', async () => {
    const ctx = makeContext()
    const retry = settings({ maxAttempts: 3, budget: false })
    await createRetryStage(ctx, retry)(makeCall(), script(httpOutcome(503)).next)
    expect(ctx.counters.retries).toBe(2)
  })

  it('lets retryOn decide above the default rules, and keeps the default on undefined', async () => {
    const asked: unknown[] = []
    const retryOn = vi.fn((context: Parameters<NonNullable<RetryOptions['retryOn']>>[0]) => {
      asked.push({
        attempt: context.attempt,
        status: context.status,
        hint: context.header('X-Hint'),
      })
      if (context.status === 503) return false
      if (context.status === 409) return true
      return undefined
    })
    const retry = settings({ retryOn })
    const stop = script(httpOutcome(503), httpOutcome(200))
    expect(await createRetryStage(makeContext(), retry)(makeCall(), stop.next)).toMatchObject({
      status: 503,
    })
    expect(stop.sent).toHaveLength(1)
    const go = script(
      httpOutcome(409, 'x', [['x-hint', 'again']]),
      httpOutcome(502),
      httpOutcome(200),
    )
    expect(await createRetryStage(makeContext(), retry)(makeCall(), go.next)).toMatchObject({
      status: 200,
    })
    expect(asked).toEqual([
      { attempt: 1, status: 503, hint: undefined },
      { attempt: 1, status: 409, hint: 'again' },
      { attempt: 2, status: 502, hint: undefined },
    ])
  })

  it('asks retryOn about thrown errors, never about successes', async () => {
    const error = new RangeError('custom')
    const retryOn = vi.fn((context: { error: unknown }) => context.error === error)
    const { next, sent } = script(error, httpOutcome(200))
    await createRetryStage(makeContext(), settings({ retryOn }))(makeCall(), next)
    expect(sent).toHaveLength(2)
    expect(retryOn).toHaveBeenCalledTimes(1)
  })

  it('does not let retryOn resend a non-idempotent call', async () => {
    const { next, sent } = script(httpOutcome(503), httpOutcome(200))
    const call = makeCall({ method: 'POST', retry: false })
    await createRetryStage(makeContext(), settings({ retryOn: () => true }))(call, next)
    expect(sent).toHaveLength(1)
  })

  it("rejects at once with the caller's reason when it aborts during a wait, leaving no timer", async () => {
    vi.useFakeTimers()
    const controller = new AbortController()
    const { next, sent } = script(
      httpOutcome(503, 'busy', [['retry-after', '5']]),
      httpOutcome(200),
    )
    const pending = createRetryStage(makeContext(), settings())(
      makeCall({ signal: controller.signal }),
      next,
    )
    await vi.advanceTimersByTimeAsync(100)
    expect(vi.getTimerCount()).toBe(1)
    const reason = new Error('user left')
    controller.abort(reason)
    await expect(pending).rejects.toBe(reason)
    expect(vi.getTimerCount()).toBe(0)
    expect(sent).toHaveLength(1)
  })

  it("rejects with the caller's reason when it aborted during an attempt, releasing the body", async () => {
    const controller = new AbortController()
    const reason = new Error('user left')
    const live = liveOutcome(503)
    const { next, sent } = script(async () => {
      controller.abort(reason)
      return live.outcome
    })
    const ctx = makeContext()
    const pending = createRetryStage(ctx, settings())(makeCall({ signal: controller.signal }), next)
    await expect(pending).rejects.toBe(reason)
    expect(sent).toHaveLength(1)
    expect(live.cancelled()).toBe(true)
    expect(ctx.counters).toMatchObject({ retries: 0, giveUps: 0 })
  })

  it('releases the live body of an attempt it retries', async () => {
    const live = liveOutcome(503)
    const { next } = script(live.outcome, httpOutcome(200))
    await createRetryStage(makeContext(), settings())(makeCall(), next)
    expect(live.cancelled()).toBe(true)
  })

  it('counts without building events when nobody listens', async () => {
    const ctx = makeContext()
    const quiet = { ...ctx, events: new Events(undefined) }
    const emit = vi.spyOn(quiet.events, 'emit')
    const { next } = script(httpOutcome(503))
    await createRetryStage(quiet, settings({ maxAttempts: 2 }))(makeCall(), next)
    expect(quiet.counters).toMatchObject({ retries: 1, giveUps: 1 })
    expect(emit).not.toHaveBeenCalled()
  })
})
