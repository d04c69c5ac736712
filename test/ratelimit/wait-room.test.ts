import { getEventListeners } from 'node:events'
import { describe, expect, it } from 'vitest'
import { createWaitRoom } from '../../src/ratelimit/wait-room.js'
import { createManualTime } from '../helpers/manual-time.js'

const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length

describe('createWaitRoom', () => {
  it('resolves after the time asked on its timers, leaving no listener on the signal', async () => {
    const time = createManualTime()
    const room = createWaitRoom(time)
    const controller = new AbortController()
    let done = false
    const waiting = room.wait(20, controller.signal).then(() => {
      done = true
    })
    await time.advance(19)
    expect(done).toBe(false)
    await time.advance(1)
    await waiting
    expect(done).toBe(true)
    expect(time.pending).toBe(0)
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
