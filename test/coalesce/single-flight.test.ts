import { getEventListeners } from 'node:events'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { SingleFlight } from '../../src/coalesce/single-flight.js'
import type { Outcome } from '../../src/core/outcome.js'
import { httpOutcome, textOf } from '../helpers/call.js'

/** A promise the test settles by hand. */
function deferred<T>() {
  let resolve: (value: T) => void = () => {}
  let reject: (error: unknown) => void = () => {}
  const promise = new Promise<T>((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}

/** A `start` that records the signals it was given and answers when the test says so. */
function held() {
  const answer = deferred<Outcome>()
  const signals: AbortSignal[] = []
  const start = (signal: AbortSignal) => {
    signals.push(signal)
    return answer.promise
  }
  return { start, signals, answer }
}

const tick = () => new Promise((resolve) => setImmediate(resolve))

describe('SingleFlight', () => {
  it('starts one flight for 1,000 concurrent identical runs and gives every caller its outcome', async () => {
    const flights = new SingleFlight()
    const { start, signals, answer } = held()
    const runs = Array.from({ length: 1_000 }, () => flights.run('k', undefined, start))
    expect(flights.size).toBe(1)
    answer.resolve(httpOutcome(200, 'shared'))
    const results = await Promise.all(runs)
    expect(signals).toHaveLength(1)
    expect(results.map((r) => textOf(r.outcome))).toEqual(Array(1_000).fill('shared'))
    expect(results.filter((r) => r.joined)).toHaveLength(999)
    expect(results[0]?.joined).toBe(false)
  })

  it('runs different keys as different flights', async () => {
    const flights = new SingleFlight()
    let starts = 0
    const start = async () => {
      starts++
      return httpOutcome()
    }
    await Promise.all([flights.run('a', undefined, start), flights.run('b', undefined, start)])
    expect(starts).toBe(2)
  })

  it('runs flights past its bound for their callers without making them joinable', async () => {
    const flights = new SingleFlight(1)
    const first = held()
    const second = held()
    const third = held()
    const runs = [
      flights.run('a', undefined, first.start),
      flights.run('b', undefined, second.start),
      flights.run('b', undefined, third.start),
      flights.run('a', undefined, first.start),
    ]
    expect(flights.size).toBe(1)
    first.answer.resolve(httpOutcome(200, 'a'))
    second.answer.resolve(httpOutcome(200, 'b1'))
    third.answer.resolve(httpOutcome(200, 'b2'))
    const results = await Promise.all(runs)
    expect(results.map((r) => textOf(r.outcome))).toEqual(['a', 'b1', 'b2', 'a'])
    expect(results.map((r) => r.joined)).toEqual([false, false, false, true])
    expect([first.signals.length, second.signals.length, third.signals.length]).toEqual([1, 1, 1])
    expect(flights.size).toBe(0)
  })

  it('tells onJoin how many callers share the flight, and only for callers that joined', async () => {
    const flights = new SingleFlight()
    const { start, answer } = held()
    const joins: number[] = []
    const runs = [1, 2, 3].map(() => flights.run('k', undefined, start, (n) => joins.push(n)))
    answer.resolve(httpOutcome())
    await Promise.all(runs)
    expect(joins).toEqual([2, 3])
  })

  it('starts the flight on a signal of its own, never a caller’s', async () => {
    const flights = new SingleFlight()
    const { start, signals, answer } = held()
    const caller = new AbortController()
    const run = flights.run('k', caller.signal, start)
    expect(signals[0]).not.toBe(caller.signal)
    answer.resolve(httpOutcome())
    await run
  })

  it('rejects only the caller that aborts, with its reason, and serves the nine others', async () => {
    const flights = new SingleFlight()
    const { start, signals, answer } = held()
    const controllers = Array.from({ length: 10 }, () => new AbortController())
    const runs = controllers.map((c) => flights.run('k', c.signal, start))
    const reason = new Error('caller 3 left')
    controllers[3]?.abort(reason)
    await expect(runs[3]).rejects.toBe(reason)
    expect(signals[0]?.aborted).toBe(false)
    answer.resolve(httpOutcome(200, 'for the rest'))
    const rest = await Promise.all(runs.filter((_, i) => i !== 3))
    expect(rest.map((r) => textOf(r.outcome))).toEqual(Array(9).fill('for the rest'))
  })

  it('aborts the flight with the last caller’s reason when every caller has left', async () => {
    const flights = new SingleFlight()
    const { start, signals } = held()
    const controllers = [new AbortController(), new AbortController()]
    const runs = controllers.map((c) => flights.run('k', c.signal, start).catch((e: unknown) => e))
    controllers[0]?.abort(new Error('first'))
    expect(signals[0]?.aborted).toBe(false)
    const last = new Error('last')
    controllers[1]?.abort(last)
    expect(signals[0]?.aborted).toBe(true)
    expect(signals[0]?.reason).toBe(last)
    expect(flights.size).toBe(0)
    await Promise.all(runs)
  })

  it('starts a fresh flight for a caller that comes after every caller of the last one left', async () => {
    const flights = new SingleFlight()
    const first = held()
    const leaving = new AbortController()
    const gone = flights.run('k', leaving.signal, first.start).catch(() => {})
    leaving.abort()
    const second = held()
    const run = flights.run('k', undefined, second.start)
    second.answer.resolve(httpOutcome(200, 'fresh'))
    first.answer.resolve(httpOutcome(200, 'stale'))
    expect(textOf((await run).outcome)).toBe('fresh')
    await gone
  })

  it('rejects a caller whose signal is already aborted without starting anything', async () => {
    const flights = new SingleFlight()
    const { start, signals } = held()
    const reason = new Error('gone before')
    await expect(flights.run('k', AbortSignal.abort(reason), start)).rejects.toBe(reason)
    expect(signals).toHaveLength(0)
    expect(flights.size).toBe(0)
  })

  it('passes the flight’s error to every caller, a synchronous throw of start included', async () => {
    const flights = new SingleFlight()
    const boom = new Error('boom')
    const start = () => {
      throw boom
    }
    const runs = [flights.run('k', undefined, start), flights.run('k', undefined, start)]
    for (const run of runs) await expect(run).rejects.toBe(boom)
  })

  it('is empty after a success, after a failure and after every caller left', async () => {
    const flights = new SingleFlight()
    await flights.run('ok', undefined, async () => httpOutcome())
    expect(flights.size).toBe(0)
    await flights.run('fail', undefined, async () => Promise.reject(new Error('x'))).catch(() => {})
    expect(flights.size).toBe(0)
    const leaving = new AbortController()
    const gone = flights.run('left', leaving.signal, held().start).catch(() => {})
    expect(flights.size).toBe(1)
    leaving.abort()
    await gone
    expect(flights.size).toBe(0)
  })

  it('removes its listeners from caller signals once the caller settles', async () => {
    const flights = new SingleFlight()
    const { start, answer } = held()
    const callers = [new AbortController(), new AbortController()]
    const runs = callers.map((c) => flights.run('k', c.signal, start))
    expect(getEventListeners(callers[0]?.signal as AbortSignal, 'abort')).toHaveLength(1)
    answer.resolve(httpOutcome())
    await Promise.all(runs)
    for (const c of callers) expect(getEventListeners(c.signal, 'abort')).toHaveLength(0)
  })

  describe('when the flight fails after every caller left', () => {
    const unhandled: unknown[] = []
    const record = (reason: unknown) => unhandled.push(reason)
    beforeEach(() => {
      process.on('unhandledRejection', record)
    })
    afterEach(() => {
      process.off('unhandledRejection', record)
    })

    it('raises no unhandled rejection', async () => {
      const flights = new SingleFlight()
      const { start, answer } = held()
      const leaving = new AbortController()
      const gone = flights.run('k', leaving.signal, start).catch(() => {})
      leaving.abort()
      await gone
      answer.reject(new Error('failed with no one left'))
      await tick()
      await tick()
      expect(unhandled).toEqual([])
    })
  })

  it('releases a live body that arrives after every caller left', async () => {
    const flights = new SingleFlight()
    const { start, answer } = held()
    const leaving = new AbortController()
    const gone = flights.run('k', leaving.signal, start).catch(() => {})
    leaving.abort()
    await gone
    const cancelled = deferred<unknown>()
    const body = new ReadableStream<Uint8Array>({ cancel: (reason) => cancelled.resolve(reason) })
    answer.resolve({ ...httpOutcome(), body })
    await cancelled.promise
    expect(body.locked).toBe(false)
  })

  it('gives each of three callers its own stream of the full live body', async () => {
    const flights = new SingleFlight()
    const { start, answer } = held()
    const runs = [1, 2, 3].map(() => flights.run('k', undefined, start))
    const chunks = ['data: one\n\n', 'data: two\n\n', 'data: three\n\n']
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        for (const chunk of chunks) controller.enqueue(new TextEncoder().encode(chunk))
        controller.close()
      },
    })
    answer.resolve({ ...httpOutcome(), body })
    const outcomes = (await Promise.all(runs)).map((r) => r.outcome)
    const bodies = outcomes.map((o) => (o.kind === 'http' ? o.body : null))
    expect(new Set(bodies).size).toBe(3)
    const texts = await Promise.all(bodies.map((b) => new Response(b).text()))
    expect(texts).toEqual(Array(3).fill(chunks.join('')))
  })

  it('shares a complete body as it is', async () => {
    const flights = new SingleFlight()
    const { start, answer } = held()
    const runs = [1, 2].map(() => flights.run('k', undefined, start))
    const outcome = httpOutcome()
    answer.resolve(outcome)
    const [a, b] = await Promise.all(runs)
    expect(a?.outcome).toBe(outcome)
    expect(b?.outcome).toBe(outcome)
  })
})
