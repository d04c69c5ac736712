import { describe, expect, it, vi } from 'vitest'
import { createConcurrencyStage } from '../../src/concurrency/concurrency-stage.js'
import type { Call } from '../../src/core/call.js'
import { isTimeoutError } from '../../src/core/errors.js'
import type { Outcome } from '../../src/core/outcome.js'
import type { Next } from '../../src/core/stage.js'
import { httpOutcome, makeCall, makeContext } from '../helpers/call.js'
import { createManualTime } from '../helpers/manual-time.js'
import { delay, reply, useUpstream } from '../helpers/upstream.js'

const { up, make } = useUpstream()

/** A handler that takes `ms` per request and counts how many it holds at once, per group. */
function countingConcurrency(ms: number, groupOf: (url: string) => string = () => 'all') {
  const active = new Map<string, number>()
  const peak = new Map<string, number>()
  let now = 0
  let overall = 0
  up.handle(async (_req, res, seen) => {
    const group = groupOf(seen.url)
    active.set(group, (active.get(group) ?? 0) + 1)
    peak.set(group, Math.max(peak.get(group) ?? 0, active.get(group) ?? 0))
    overall = Math.max(overall, ++now)
    await delay(ms)
    active.set(group, (active.get(group) ?? 1) - 1)
    now--
    reply(res, 200, 'ok')
  })
  return { peak, overall: () => overall }
}

describe('createConcurrencyStage against a server', () => {
  it('never has more than `concurrency` requests in flight', async () => {
    const server = countingConcurrency(30)
    const fetch = make({ concurrency: 3, cache: false })
    const all = Array.from({ length: 12 }, (_, i) =>
      fetch(`${up.url}/c/${i}`).then((r) => r.text()),
    )
    expect(await Promise.all(all)).toEqual(Array(12).fill('ok'))
    expect(server.overall()).toBe(3)
  })

  it('limits each key on its own', async () => {
    const server = countingConcurrency(30, (url) => url.split('/')[1] ?? '')
    const fetch = make({
      cache: false,
      concurrency: { limit: 1, key: (call) => new URL(call.url).pathname.split('/')[1] ?? '' },
    })
    const all = ['a', 'b'].flatMap((group) =>
      Array.from({ length: 4 }, (_, i) => fetch(`${up.url}/${group}/${i}`).then((r) => r.text())),
    )
    await Promise.all(all)
    expect(Object.fromEntries(server.peak)).toEqual({ a: 1, b: 1 })
    expect(server.overall()).toBe(2)
  })

  it('rejects a caller that aborts while waiting, before anything is sent for it', async () => {
    // The slow call holds its slot until the test lets it answer.
    let answer: (() => void) | undefined
    up.handle((_req, res) => {
      answer = () => reply(res, 200, 'ok')
    })
    const fetch = make({ concurrency: 1, cache: false, coalesce: false })
    let firstDone = false
    const first = fetch(`${up.url}/slow`).then((res) => {
      firstDone = true
      return res
    })
    await vi.waitFor(() => expect(answer).toBeDefined())
    const caller = new AbortController()
    const waiting = fetch(`${up.url}/waiting`, { signal: caller.signal })
    caller.abort(new Error('changed my mind'))
    await expect(waiting).rejects.toThrow('changed my mind')
    // At once, not when the slow call frees its slot: that one is still unanswered.
    expect(firstDone).toBe(false)
    answer?.()
    expect(await (await first).text()).toBe('ok')
    expect(up.requests.map((r) => r.url)).toEqual(['/slow'])
  })
})

/** A `next` whose answers wait until the test gives them, in order. */
function held() {
  const sent: Call[] = []
  const answers: ((outcome: Outcome) => void)[] = []
  const next: Next = (call) => {
    sent.push(call)
    return new Promise((resolve) => answers.push(resolve))
  }
  return { next, sent, answer: () => answers.shift()?.(httpOutcome(200)) }
}

describe('createConcurrencyStage', () => {
  it('serves waiters in arrival order as slots free up', async () => {
    const stage = createConcurrencyStage(makeContext(), { limit: 1, key: undefined })
    const { next, sent, answer } = held()
    const runs = ['a', 'b', 'c'].map((key) => stage(makeCall({ key }), next))
    for (let i = 1; i <= 3; i++) {
      await vi.waitFor(() => expect(sent).toHaveLength(i))
      answer()
    }
    await Promise.all(runs)
    expect(sent.map((c) => c.key)).toEqual(['a', 'b', 'c'])
  })

  it('rejects an aborted waiter at once with its reason, and gives its turn to the next', async () => {
    const stage = createConcurrencyStage(makeContext(), { limit: 1, key: undefined })
    const { next, sent, answer } = held()
    const first = stage(makeCall({ key: 'first' }), next)
    const caller = new AbortController()
    const leaving = stage(makeCall({ key: 'leaving', signal: caller.signal }), next)
    const last = stage(makeCall({ key: 'last' }), next)
    caller.abort(new Error('left'))
    await expect(leaving).rejects.toThrow('left')
    answer()
    await first
    await vi.waitFor(() => expect(sent).toHaveLength(2))
    answer()
    await last
    expect(sent.map((c) => c.key)).toEqual(['first', 'last'])
  })

  it('rejects at once when the signal is already aborted', async () => {
    const stage = createConcurrencyStage(makeContext(), { limit: 1, key: undefined })
    const { next, sent } = held()
    const signal = AbortSignal.abort(new Error('too late'))
    await expect(stage(makeCall({ signal }), next)).rejects.toThrow('too late')
    expect(sent).toHaveLength(0)
  })

  it('fails a waiter with TimeoutError when the call’s deadline passes', async () => {
    const time = createManualTime()
    const stage = createConcurrencyStage(
      { ...makeContext(), clock: time, timers: time },
      { limit: 1, key: undefined },
    )
    const { next, sent, answer } = held()
    const first = stage(makeCall(), next)
    let failed: unknown
    const waiting = stage(makeCall({ deadline: time.now() + 40 }), next).catch((e: unknown) => {
      failed = e
    })
    await time.advance(39)
    expect(failed).toBeUndefined()
    await time.advance(1)
    await waiting
    expect(isTimeoutError(failed)).toBe(true)
    expect(String(failed)).toMatch(/concurrency slot/)
    expect(time.pending).toBe(0)
    answer()
    await first
    expect(sent).toHaveLength(1)
  })

  it('passes what a waiter’s attempt throws to its caller', async () => {
    const stage = createConcurrencyStage(makeContext(), { limit: 1, key: undefined })
    const { next, sent, answer } = held()
    const first = stage(makeCall(), next)
    const failing = stage(makeCall(), () => {
      throw new Error('boom')
    })
    await vi.waitFor(() => expect(sent).toHaveLength(1))
    answer()
    await first
    await expect(failing).rejects.toThrow('boom')
  })
})
