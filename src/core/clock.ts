/** A source of the current time in ms; injectable so that time itself can be tested. */
export interface Clock {
  now(): number
}

/** The wall clock (`Date.now`), the default. */
export const systemClock: Clock = { now: () => Date.now() }

/**
 * Resolves after `ms`, or rejects with the signal's reason as soon as it aborts. The timer and
 * the listener are both released whichever comes first.
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(signal.reason)
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer)
      reject(signal?.reason)
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

/**
 * Sleeps `ms`, or less when one of `wakers` is called: how a store lets its waiters go at once
 * on a change or on close. Resolves `true` when woken, `false` when the time ran out; rejects
 * with the signal's reason on its abort. The timer, the listener and the waker go however it ends.
 */
export function nap(
  ms: number,
  wakers: Set<() => void>,
  signal: AbortSignal | undefined,
): Promise<boolean> {
  // A signal that aborted while the caller was busy elsewhere never fires its event again.
  if (signal?.aborted) return Promise.reject(signal.reason)
  return new Promise((resolve, reject) => {
    const leave = () => {
      clearTimeout(timer)
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
    const timer = setTimeout(() => {
      leave()
      resolve(false)
    }, ms)
    wakers.add(wake)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}
