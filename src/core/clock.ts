/** A source of the current time in ms; injectable so that time itself can be tested. */
export interface Clock {
  now(): number
}

/** The wall clock (`Date.now`), the default. */
export const systemClock: Clock = { now: () => Date.now() }

/**
 * What the stages wait with, beside the `Clock` they read: injectable so that a test of waiting
 * moves time by hand instead of sleeping. A handle is whatever `setTimeout` returned.
 *
 * Every wait a stage chooses runs on them: the retry backoff, the rate-limit wait room, the
 * concurrency slot's deadline, the per-attempt timeout. What waits on the network stays on the
 * wall clock: the Redis connection's connect and reconnect timers, lease renewals and the polls
 * of a lease or a record held by another process, whose time no test can move.
 */
export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown
  clearTimeout(handle: unknown): void
}

/**
 * The global timers, the default. Looked up at each call, not captured, so that a test that
 * fakes the globals (`vi.useFakeTimers`) still reaches them.
 */
export const systemTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout> | undefined),
}

/**
 * Resolves after `ms` on `timers`, or rejects with the signal's reason as soon as it aborts.
 * The timer and the listener are both released whichever comes first.
 */
export function sleep(
  ms: number,
  signal?: AbortSignal,
  timers: Timers = systemTimers,
): Promise<void> {
  if (signal?.aborted) return Promise.reject(signal.reason)
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      timers.clearTimeout(timer)
      reject(signal?.reason)
    }
    const timer = timers.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

/**
 * Sleeps `ms` on `timers`, or less when one of `wakers` is called: how a store lets its waiters
 * go at once on a change or on close. Resolves `true` when woken, `false` when the time ran out;
 * rejects with the signal's reason on its abort. The timer, the listener and the waker go
 * however it ends.
 */
export function nap(
  ms: number,
  wakers: Set<() => void>,
  signal: AbortSignal | undefined,
  timers: Timers = systemTimers,
): Promise<boolean> {
  // A signal that aborted while the caller was busy elsewhere never fires its event again.
  if (signal?.aborted) return Promise.reject(signal.reason)
  return new Promise((resolve, reject) => {
    const leave = () => {
      timers.clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
      wakers.delete(wake)
    }
    const wake = () => {
      leave()
      resolve(true)
    }
    const onAbort = () => {
      leave()
      reject(signal?.reason)
    }
    const timer = timers.setTimeout(() => {
      leave()
      resolve(false)
    }, ms)
    wakers.add(wake)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}
