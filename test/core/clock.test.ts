import { describe, expect, it } from 'vitest'
import { nap } from '../../src/core/clock.js'

describe('nap', () => {
  it('resolves true when woken and false when its time runs out, leaving no waker behind', async () => {
    const wakers = new Set<() => void>()
    const woken = nap(60_000, wakers, undefined)
    for (const wake of wakers) wake()
    await expect(woken).resolves.toBe(true)
    await expect(nap(5, wakers, undefined)).resolves.toBe(false)
    expect(wakers.size).toBe(0)
  })

  it("rejects with the signal's reason when it aborts, and at once when it already has", async () => {
    const wakers = new Set<() => void>()
    const controller = new AbortController()
    const napping = nap(60_000, wakers, controller.signal)
    controller.abort(new Error('left'))
    await expect(napping).rejects.toThrow('left')
    const started = performance.now()
    await expect(nap(60_000, wakers, controller.signal)).rejects.toThrow('left')
    expect(performance.now() - started).toBeLessThan(1_000)
    expect(wakers.size).toBe(0)
  })
})
