import { describe, expect, it } from 'vitest'
import { createCoalesceStage } from '../../src/coalesce/coalesce-stage.js'
import type { Call } from '../../src/core/call.js'
import type { Outcome } from '../../src/core/outcome.js'
import type { Next } from '../../src/core/stage.js'
import { httpOutcome, makeCall, makeContext, textOf } from '../helpers/call.js'

/** A `next` that records what it was sent and answers all calls when the test says so. */
function gated() {
  const sent: Call[] = []
  let open: (outcome: Outcome) => void = () => {}
  const gate = new Promise<Outcome>((resolve) => {
    open = resolve
  })
  const next: Next = (call) => {
    sent.push(call)
    return gate
  }
  return { next, sent, open: (outcome: Outcome) => open(outcome) }
}

describe('createCoalesceStage', () => {
  it('sends identical coalescible calls once and counts the joiners', async () => {
    const ctx = makeContext()
    const { stage, inFlight } = createCoalesceStage(ctx)
    const upstream = gated()
    const runs = [1, 2, 3].map(() => stage(makeCall(), upstream.next))
    expect(inFlight()).toBe(1)
    upstream.open(httpOutcome(200, 'one trip'))
    const outcomes = await Promise.all(runs)
    expect(outcomes.map(textOf)).toEqual(['one trip', 'one trip', 'one trip'])
    expect(upstream.sent).toHaveLength(1)
    expect(ctx.counters.coalesced).toBe(2)
    expect(inFlight()).toBe(0)
  })

  it('emits coalesced with the number of callers sharing the flight', async () => {
    const ctx = makeContext()
    const { stage } = createCoalesceStage(ctx)
    const upstream = gated()
    const runs = [1, 2, 3].map(() => stage(makeCall({ key: 'k9' }), upstream.next))
    upstream.open(httpOutcome())
    await Promise.all(runs)
    expect(ctx.seen).toEqual([
      { type: 'coalesced', key: 'k9', method: 'GET', target: 'http://127.0.0.1:1/a', waiters: 2 },
      { type: 'coalesced', key: 'k9', method: 'GET', target: 'http://127.0.0.1:1/a', waiters: 3 },
    ])
  })

  it('does not merge calls that are not coalescible', async () => {
    const ctx = makeContext()
    const { stage, inFlight } = createCoalesceStage(ctx)
    const upstream = gated()
    const caller = new AbortController()
    const call = makeCall({ coalescible: false, signal: caller.signal })
    const runs = [stage(call, upstream.next), stage(call, upstream.next)]
    expect(inFlight()).toBe(0)
    upstream.open(httpOutcome())
    await Promise.all(runs)
    expect(upstream.sent).toHaveLength(2)
    expect(upstream.sent[0]?.signal).toBe(caller.signal)
    expect(ctx.counters.coalesced).toBe(0)
    expect(ctx.seen).toEqual([])
  })

  it('does not merge calls with different keys', async () => {
    const ctx = makeContext()
    const { stage } = createCoalesceStage(ctx)
    const upstream = gated()
    const runs = ['a', 'b'].map((key) => stage(makeCall({ key }), upstream.next))
    upstream.open(httpOutcome())
    await Promise.all(runs)
    expect(upstream.sent).toHaveLength(2)
  })

  it('sends the call below on the flight’s signal, which outlives the caller that started it', async () => {
    const ctx = makeContext()
    const { stage } = createCoalesceStage(ctx)
    const upstream = gated()
    const first = new AbortController()
    const leaving = stage(makeCall({ signal: first.signal }), upstream.next)
    const staying = stage(makeCall(), upstream.next)
    const below = upstream.sent[0]?.signal
    expect(below).not.toBe(first.signal)
    first.abort(new Error('starter left'))
    await expect(leaving).rejects.toThrow('starter left')
    expect(below?.aborted).toBe(false)
    upstream.open(httpOutcome(200, 'still served'))
    expect(textOf(await staying)).toBe('still served')
  })

  it('hands an answer that sets a cookie to its own caller only, and sends each joiner down alone', async () => {
    const ctx = makeContext()
    const { stage } = createCoalesceStage(ctx)
    const sent: Call[] = []
    let open: () => void = () => {}
    const gate = new Promise<void>((resolve) => {
      open = resolve
    })
    const next: Next = async (call) => {
      const n = sent.push(call)
      if (n === 1) await gate
      return httpOutcome(200, `answer ${n}`, [['set-cookie', `session=${n}`]])
    }
    const signals = [1, 2, 3, 4].map(() => new AbortController().signal)
    const runs = signals.map((signal) => stage(makeCall({ signal }), next))
    expect(sent).toHaveLength(1)
    open()
    const outcomes = await Promise.all(runs)
    expect(outcomes.map(textOf)).toEqual(['answer 1', 'answer 2', 'answer 3', 'answer 4'])
    expect(sent.slice(1).map((call) => call.signal)).toEqual(signals.slice(1))
    expect(ctx.counters.coalesced).toBe(0)
  })

  it('sends every joiner down alone when the caller of a cookie answer has left', async () => {
    const ctx = makeContext()
    const { stage } = createCoalesceStage(ctx)
    let released = false
    const body = new ReadableStream<Uint8Array>({
      cancel() {
        released = true
      },
    })
    let open: () => void = () => {}
    const gate = new Promise<void>((resolve) => {
      open = resolve
    })
    let sent = 0
    const next: Next = async () => {
      sent++
      if (sent > 1) return httpOutcome(200, 'own', [['set-cookie', 'session=own']])
      await gate
      return { ...httpOutcome(200, '', [['set-cookie', 'session=first']]), body }
    }
    const starter = new AbortController()
    const leaving = stage(makeCall({ signal: starter.signal }), next)
    const joiners = [stage(makeCall(), next), stage(makeCall(), next)]
    starter.abort(new Error('starter left'))
    await expect(leaving).rejects.toThrow('starter left')
    open()
    expect((await Promise.all(joiners)).map(textOf)).toEqual(['own', 'own'])
    expect(sent).toBe(3)
    expect(released).toBe(true)
  })
})
