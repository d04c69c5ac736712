import { describe, expect, it, vi } from 'vitest'
import { nap, sleep, systemTimers } from '../../src/core/clock.js'
import { createManualTime } from '../helpers/manual-time.js'

/** Whether `promise` has settled by now, without waiting for it. */
function watch(promise: Promise<unknown>): { readonly settled: boolean } {
  let settled = false
  promise.then(
    () => {
      settled = true
    },
    () => {
      settled = true
    },
  )
  return {
    get settled() {
      return settled
    },
  }
}

describe('sleep', () => {
  it('resolves once its timers have run its time, and not a ms before', async () => {
    const time = createManualTime()
    const slept = watch(sleep(100, undefined, time))
    await time.advance(99)
    expect(slept.settled).toBe(false)
    await time.advance(1)
    expect(slept.settled).toBe(true)
    expect(time.pending).toBe(0)
  })

  it("rejects with the signal's reason on abort, clearing its timer", async () => {
    const time = createManualTime()
    const controller = new AbortController()
    const sleeping = sleep(60_000, controller.signal, time)
    expect(time.pending).toBe(1)
    controller.abort(new Error('left'))
    await expect(sleeping).rejects.toThrow('left')
    expect(time.pending).toBe(0)
  })
})

describe('nap', () => {
  it('resolves true when woken and false when its time runs out, leaving no waker behind', async () => {
    const time = createManualTime()
    const wakers = new Set<() => void>()
    const woken = nap(60_000, wakers, undefined, time)
    for (const wake of wakers) wake()
    await expect(woken).resolves.toBe(true)
    const napping = nap(5, wakers, undefined, time)
    await time.advance(5)
    await expect(napping).resolves.toBe(false)
    expect(wakers.size).toBe(0)
    expect(time.pending).toBe(0)
  })

  it("rejects with the signal's reason when it aborts, and at once when it already has", async () => {
    const time = createManualTime()
    const wakers = new Set<() => void>()
    const controller = new AbortController()
    const napping = nap(60_000, wakers, controller.signal, time)
    controller.abort(new Error('left'))
    await expect(napping).rejects.toThrow('left')
    // At once: no timer is even set for a signal that has already aborted.
    await expect(nap(60_000, wakers, controller.signal, time)).rejects.toThrow('left')
    expect(time.pending).toBe(0)
    expect(wakers.size).toBe(0)
  })
})

describe('systemTimers', () => {
  it('reaches the global timers at each call, so faked globals are faked for it too', async () => {
    vi.useFakeTimers()
    try {
      const slept = watch(sleep(1_000, undefined, systemTimers))
      await vi.advanceTimersByTimeAsync(999)
      expect(slept.settled).toBe(false)
      await vi.advanceTimersByTimeAsync(1)
      expect(slept.settled).toBe(true)
    } finally {
      vi.useRealTimers()
    }
  })
})

describe('createManualTime', () => {
  it('runs due timers in order of due time, then of setting, each at its own time', async () => {
    const time = createManualTime(0)
    const ran: string[] = []
    const at = (name: string) => () => ran.push(`${name}@${time.now()}`)
    time.setTimeout(at('c'), 30)
    time.setTimeout(at('a'), 10)
    time.setTimeout(at('b'), 10)
    const cleared = time.setTimeout(at('never'), 20)
    time.clearTimeout(cleared)
    await time.advance(25)
    expect(ran).toEqual(['a@10', 'b@10'])
    expect(time.now()).toBe(25)
    await time.advance(5)
    expect(ran).toEqual(['a@10', 'b@10', 'c@30'])
  })

  it('awaits the microtasks between timers, so a timer set by a resumed wait runs in the same advance', async () => {
    const time = createManualTime(0)
    const woke: number[] = []
    const twice = (async () => {
      await sleep(10, undefined, time)
      woke.push(time.now())
      await sleep(10, undefined, time)
      woke.push(time.now())
    })()
    await time.advance(20)
    await twice
    expect(woke).toEqual([10, 20])
  })

  it('awaits the given settle before each timer and at the end', async () => {
    const time = createManualTime(0)
    let settles = 0
    time.setTimeout(() => {}, 5)
    time.setTimeout(() => {}, 10)
    await time.advance(10, async () => {
      settles++
    })
    // Before the first timer, before the second, when none is left, and at the end.
    expect(settles).toBe(4)
  })
})
