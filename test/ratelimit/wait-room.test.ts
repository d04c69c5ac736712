import { getEventListeners } from 'node:events'
import { describe, expect, it } from 'vitest'
import { createWaitRoom } from '../../src/ratelimit/wait-room.js'

const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length

describe('createWaitRoom', () => {
  it('resolves after the time asked, leaving no listener on the signal', async () => {
    const room = createWaitRoom()
    const controller = new AbortController()
    const started = performance.now()
    await room.wait(20, controller.signal)
    expect(performance.now() - started).toBeGreaterThanOrEqual(19)
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0)
  })

  it("rejects with the signal's reason on abort, releasing the timer and the listener", async () => {
    const room = createWaitRoom()
    const controller = new AbortController()
    const before = timers()
    const waiting = room.wait(60_000, controller.signal)
    expect(timers()).toBe(before + 1)
    controller.abort(new Error('left the queue'))
    await expect(waiting).rejects.toThrow('left the queue')
    expect(timers()).toBe(before)
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0)
  })

  it('rejects at once for a signal already aborted', async () => {
    const room = createWaitRoom()
    await expect(room.wait(10, AbortSignal.abort(new Error('too late')))).rejects.toThrow(
      'too late',
    )
  })

  it('ends every wait on close, and every later one at once', async () => {
    const room = createWaitRoom()
    const controller = new AbortController()
    const before = timers()
    const waits = [room.wait(60_000, undefined), room.wait(60_000, controller.signal)]
    room.close(new Error('closed'))
    for (const w of waits) await expect(w).rejects.toThrow('closed')
    await expect(room.wait(1, undefined)).rejects.toThrow('closed')
    expect(timers()).toBe(before)
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0)
  })
})
