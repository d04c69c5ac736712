import { afterEach, describe, expect, it, vi } from 'vitest'
import { TimeoutError } from '../../src/core/errors.js'
import { Events } from '../../src/core/events.js'
import { createRetryStage } from '../../src/retry/retry-stage.js'
import { httpOutcome, makeCall, makeContext, textOf } from '../helpers/call.js'
import { liveOutcome, netError, script, settings } from '../helpers/scripted.js'

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
      stoppedBy: 'attempts',
      key: 'k1',
    })
  })

  it('does not resend a non-idempotent call after a 503', async () => {
    const ctx = makeContext()
    const { next, sent } = script(httpOutcome(503), httpOutcome(200))
    const call = makeCall({ method: 'POST', resendable: false })
    const outcome = await createRetryStage(ctx, settings())(call, next)
    expect(outcome).toMatchObject({ status: 503 })
    expect(sent).toHaveLength(1)
    expect(ctx.counters.giveUps).toBe(1)
    expect(ctx.seen.at(-1)).toMatchObject({ type: 'giveUp', stoppedBy: 'notIdempotent' })
  })

  it('resends a non-idempotent call refused before sending, but not after a reset', async () => {
    const call = makeCall({ method: 'POST', resendable: false })
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
