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
