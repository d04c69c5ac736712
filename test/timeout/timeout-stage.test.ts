import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { Call } from '../../src/core/call.js'
import { isTimeoutError, TimeoutError } from '../../src/core/errors.js'
import type { HttpOutcome, Outcome } from '../../src/core/outcome.js'
import type { Next } from '../../src/core/stage.js'
import { createTimeoutStage } from '../../src/timeout/timeout-stage.js'
import { httpOutcome, makeCall, makeContext } from '../helpers/call.js'

// Time is the subject of every test here: timers are fake throughout.
beforeEach(() => {
  vi.useFakeTimers()
})
afterEach(() => {
  vi.useRealTimers()
})

/** A `next` that answers after `ms` and pays no attention to the signal it is given. */
function answerAfter(ms: number, outcome: Outcome = httpOutcome(200)) {
  const sent: Call[] = []
  const next: Next = (call) => {
    sent.push(call)
    return new Promise((resolve) => setTimeout(() => resolve(outcome), ms))
  }
  return { next, sent }
}

/** A `next` that ends only when its signal aborts, rejecting with the signal's reason. */
function untilAborted() {
  const sent: Call[] = []
  const next: Next = (call) => {
    sent.push(call)
    return new Promise((_, reject) => {
      call.signal?.addEventListener('abort', () => reject(call.signal?.reason), { once: true })
    })
  }
  return { next, sent }
}

/** A live body the test writes to, remembering why its reader cancelled it. */
function liveBody() {
  let controller: ReadableStreamDefaultController<Uint8Array> | undefined
  const seen: { cancelled?: unknown } = {}
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c
    },
    cancel(reason) {
      seen.cancelled = reason
    },
  })
  return {
    body,
    seen,
    write: (text: string) => controller?.enqueue(new TextEncoder().encode(text)),
    end: () => controller?.close(),
  }
}

/** The live body of an outcome the stage resolved with. */
function bodyOf(outcome: Outcome): ReadableStream<Uint8Array> {
  if (outcome.kind !== 'http' || !(outcome.body instanceof ReadableStream)) {
    throw new Error('not a live http outcome')
  }
  return outcome.body
}

describe('createTimeoutStage', () => {
  it('turns a slow attempt into a TimeoutError when the limit passes', async () => {
    const ctx = makeContext()
    const { next, sent } = untilAborted()
    const pending = createTimeoutStage(ctx)(makeCall({ timeout: 100 }), next)
    const settled = expect(pending).rejects.toSatisfy(isTimeoutError)
    await vi.advanceTimersByTimeAsync(99)
    expect(sent[0]?.signal?.aborted).toBe(false)
    await vi.advanceTimersByTimeAsync(1)
    await settled
    const error = await pending.catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'TIMEOUT', timeout: 100 })
    expect(sent[0]?.signal?.reason).toBe(error)
    expect(ctx.counters.timeouts).toBe(1)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('times out a function that ignores the signal, and releases its late body', async () => {
    const ctx = makeContext()
    let cancelled = false
    const body = new ReadableStream<Uint8Array>({
      cancel() {
        cancelled = true
      },
    })
    const late: HttpOutcome = { ...httpOutcome(200), body }
    const { next } = answerAfter(1_000, late)
    const pending = createTimeoutStage(ctx)(makeCall({ timeout: 50 }), next)
    const settled = expect(pending).rejects.toBeInstanceOf(TimeoutError)
    await vi.advanceTimersByTimeAsync(50)
    await settled
    await vi.advanceTimersByTimeAsync(950)
    expect(cancelled).toBe(true)
    expect(ctx.counters.timeouts).toBe(1)
  })

  it('returns a fast attempt and clears its timer', async () => {
    const ctx = makeContext()
    const { next } = answerAfter(10)
    const pending = createTimeoutStage(ctx)(makeCall({ timeout: 1_000 }), next)
    await vi.advanceTimersByTimeAsync(10)
    expect(await pending).toMatchObject({ status: 200 })
    expect(vi.getTimerCount()).toBe(0)
    expect(ctx.counters.timeouts).toBe(0)
  })

  it('passes on the error of a failing attempt and clears its timer', async () => {
    const failure = new Error('refused')
    const next: Next = () => Promise.reject(failure)
    await expect(
      createTimeoutStage(makeContext())(makeCall({ timeout: 1_000 }), next),
    ).rejects.toBe(failure)
    expect(vi.getTimerCount()).toBe(0)
  })

  it("rejects with the caller's own reason when the caller aborts, not a TimeoutError", async () => {
    const ctx = makeContext()
    const controller = new AbortController()
    const { next, sent } = answerAfter(1_000)
    const pending = createTimeoutStage(ctx)(
      makeCall({ timeout: 500, signal: controller.signal }),
      next,
    )
    await vi.advanceTimersByTimeAsync(100)
    const reason = new Error('user left')
    controller.abort(reason)
    await expect(pending).rejects.toBe(reason)
    expect(sent[0]?.signal?.reason).toBe(reason)
    expect(ctx.counters.timeouts).toBe(0)
    await vi.advanceTimersByTimeAsync(1_000)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('sends nothing for a caller that has already aborted', async () => {
    const { next, sent } = answerAfter(10)
    const reason = new Error('gone')
    const call = makeCall({ timeout: 500, signal: AbortSignal.abort(reason) })
    await expect(createTimeoutStage(makeContext())(call, next)).rejects.toBe(reason)
    expect(sent).toHaveLength(0)
  })

  it('shortens the limit to what is left before the deadline', async () => {
    const ctx = makeContext()
    const { next } = untilAborted()
    const call = makeCall({ timeout: 1_000, deadline: ctx.time.now + 100 })
    const pending = createTimeoutStage(ctx)(call, next)
    const settled = expect(pending).rejects.toThrow(
      'attempt (call deadline) timed out after 100 ms',
    )
    await vi.advanceTimersByTimeAsync(100)
    await settled
  })

  it('applies the deadline alone when there is no timeout', async () => {
    const ctx = makeContext()
    const { next } = untilAborted()
    const pending = createTimeoutStage(ctx)(makeCall({ deadline: ctx.time.now + 30 }), next)
    const settled = expect(pending).rejects.toSatisfy(isTimeoutError)
    await vi.advanceTimersByTimeAsync(30)
    await settled
  })

  it('sends nothing once the deadline has passed', async () => {
    const ctx = makeContext()
    const { next, sent } = answerAfter(10)
    const call = makeCall({ timeout: 1_000, deadline: ctx.time.now - 1 })
    await expect(createTimeoutStage(ctx)(call, next)).rejects.toSatisfy(isTimeoutError)
    expect(sent).toHaveLength(0)
  })

  it('passes the call through untouched when there is no limit', async () => {
    const { next, sent } = answerAfter(10)
    const call = makeCall({ timeout: 0 })
    const pending = createTimeoutStage(makeContext())(call, next)
    expect(vi.getTimerCount()).toBe(1)
    await vi.advanceTimersByTimeAsync(10)
    await pending
    expect(sent[0]).toBe(call)
  })

  it('holds a live body to the limit: a read past it fails with the TimeoutError', async () => {
    const ctx = makeContext()
    const source = liveBody()
    const { next, sent } = answerAfter(10, { ...httpOutcome(200), body: source.body })
    const pending = createTimeoutStage(ctx)(makeCall({ timeout: 100 }), next)
    await vi.advanceTimersByTimeAsync(10)
    const reader = bodyOf(await pending).getReader()
    source.write('first')
    expect((await reader.read()).done).toBe(false)
    const rest = reader.read()
    const failed = expect(rest).rejects.toSatisfy(isTimeoutError)
    await vi.advanceTimersByTimeAsync(90)
    await failed
    const error = await rest.catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'TIMEOUT', timeout: 100 })
    expect(source.seen.cancelled).toBe(error)
    expect(sent[0]?.signal?.reason).toBe(error)
    expect(ctx.counters.timeouts).toBe(1)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('clears the timer once a live body is read to its end', async () => {
    const ctx = makeContext()
    const source = liveBody()
    const { next } = answerAfter(10, { ...httpOutcome(200), body: source.body })
    const pending = createTimeoutStage(ctx)(makeCall({ timeout: 100 }), next)
    await vi.advanceTimersByTimeAsync(10)
    const text = new Response(bodyOf(await pending)).text()
    source.write('whole')
    source.end()
    expect(await text).toBe('whole')
    expect(vi.getTimerCount()).toBe(0)
    await vi.advanceTimersByTimeAsync(200)
    expect(ctx.counters.timeouts).toBe(0)
  })

  it('clears the timer and releases the source when the reader cancels a live body', async () => {
    const ctx = makeContext()
    const source = liveBody()
    const { next } = answerAfter(10, { ...httpOutcome(200), body: source.body })
    const pending = createTimeoutStage(ctx)(makeCall({ timeout: 100 }), next)
    await vi.advanceTimersByTimeAsync(10)
    await bodyOf(await pending).cancel('not wanted')
    expect(source.seen.cancelled).toBe('not wanted')
    expect(vi.getTimerCount()).toBe(0)
    expect(ctx.counters.timeouts).toBe(0)
  })

  it("fails a live body with the caller's reason when the caller aborts mid-body", async () => {
    const ctx = makeContext()
    const caller = new AbortController()
    const source = liveBody()
    const { next } = answerAfter(10, { ...httpOutcome(200), body: source.body })
    const call = makeCall({ timeout: 100, signal: caller.signal })
    const pending = createTimeoutStage(ctx)(call, next)
    await vi.advanceTimersByTimeAsync(10)
    const read = bodyOf(await pending)
      .getReader()
      .read()
    const reason = new Error('user left')
    caller.abort(reason)
    await expect(read).rejects.toBe(reason)
    expect(source.seen.cancelled).toBe(reason)
    expect(ctx.counters.timeouts).toBe(0)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('leaves an event stream untimed once its headers are in', async () => {
    const ctx = makeContext()
    const source = liveBody()
    const stream: HttpOutcome = {
      ...httpOutcome(200, '', [['content-type', 'text/event-stream; charset=utf-8']]),
      body: source.body,
    }
    const { next } = answerAfter(10, stream)
    const pending = createTimeoutStage(ctx)(makeCall({ timeout: 100 }), next)
    await vi.advanceTimersByTimeAsync(10)
    expect(bodyOf(await pending)).toBe(source.body)
    expect(vi.getTimerCount()).toBe(0)
  })

  it("still aborts an event stream's attempt when the caller aborts after its headers", async () => {
    const ctx = makeContext()
    const source = liveBody()
    const stream: HttpOutcome = {
      ...httpOutcome(200, '', [['content-type', 'text/event-stream']]),
      body: source.body,
    }
    const caller = new AbortController()
    const { next, sent } = answerAfter(10, stream)
    const pending = createTimeoutStage(ctx)(makeCall({ timeout: 100, signal: caller.signal }), next)
    await vi.advanceTimersByTimeAsync(10)
    const reader = bodyOf(await pending).getReader()
    const reason = new Error('caller left')
    caller.abort(reason)
    expect(sent[0]?.signal?.aborted).toBe(true)
    expect(sent[0]?.signal?.reason).toBe(reason)
    await expect(reader.read()).rejects.toBe(reason)
  })

  it('forgets the caller once the attempt is over, so a long-lived signal holds nothing', async () => {
    const ctx = makeContext()
    const caller = new AbortController()
    const { next, sent } = answerAfter(10)
    const pending = createTimeoutStage(ctx)(makeCall({ timeout: 100, signal: caller.signal }), next)
    await vi.advanceTimersByTimeAsync(10)
    await pending
    caller.abort(new Error('late'))
    expect(sent[0]?.signal?.aborted).toBe(false)
  })
})
