import { afterEach, describe, expect, it, vi } from 'vitest'
import type { RetryOptions } from '../../src/retry/options.js'
import { createRetryStage } from '../../src/retry/retry-stage.js'
import { httpOutcome, makeCall, makeContext, textOf } from '../helpers/call.js'
import { script, settings } from '../helpers/scripted.js'

afterEach(() => {
  vi.useRealTimers()
})

describe('createRetryStage limits and hooks', () => {
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
      expect.objectContaining({
        type: 'giveUp',
        attempts: 1,
        reason: 'status 429',
        stoppedBy: 'retryAfter',
      }),
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
    expect(ctx.seen.at(-1)).toMatchObject({ type: 'giveUp', stoppedBy: 'deadline' })
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
    expect(ctx.seen.at(-1)).toMatchObject({ type: 'giveUp', stoppedBy: 'budget' })
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
    const call = makeCall({ method: 'POST', resendable: false })
    await createRetryStage(makeContext(), settings({ retryOn: () => true }))(call, next)
    expect(sent).toHaveLength(1)
  })
})
