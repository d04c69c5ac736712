import { nap, systemTimers, type Timers } from '../core/clock.js'

/**
 * Callers waiting for their granted start. Each wait ends on its timer, on the caller's abort
 * (rejecting with the signal's reason) or on `close()`; the timer and the listener are released
 * however it ends, so an abandoned wait leaves nothing behind.
 */
export interface WaitRoom {
  /** Resolves after `ms`, or rejects on `signal`'s abort or on `close()`. */
  wait(ms: number, signal: AbortSignal | undefined): Promise<void>
  /** Ends every wait with `reason`, and every later one at once. */
  close(reason: unknown): void
}

/** A wait room whose waits run on `timers` (the stage's `context.timers`). */
export function createWaitRoom(timers: Timers = systemTimers): WaitRoom {
  const wakers = new Set<() => void>()
  let closedWith: { reason: unknown } | undefined

  return {
    async wait(ms, signal) {
      // `close` is the only waker here: a nap that ends woken ends closed.
      if (closedWith === undefined && !(await nap(ms, wakers, signal, timers))) return
      throw closedWith?.reason
    },
    close(reason) {
      closedWith = { reason }
      for (const wake of [...wakers]) wake()
    },
  }
}
