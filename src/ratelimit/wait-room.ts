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

export function createWaitRoom(): WaitRoom {
  const waiting = new Set<(reason: unknown) => void>()
  let closedWith: { reason: unknown } | undefined

  return {
    wait(ms, signal) {
      if (closedWith !== undefined) return Promise.reject(closedWith.reason)
      if (signal?.aborted) return Promise.reject(signal.reason)
      return new Promise<void>((resolve, reject) => {
        const release = () => {
          clearTimeout(timer)
          signal?.removeEventListener('abort', onAbort)
          waiting.delete(stop)
        }
        const stop = (reason: unknown) => {
          release()
          reject(reason)
        }
        const onAbort = () => stop(signal?.reason)
        const timer = setTimeout(() => {
          release()
          resolve()
        }, ms)
        signal?.addEventListener('abort', onAbort, { once: true })
        waiting.add(stop)
      })
    },
    close(reason) {
      closedWith = { reason }
      for (const stop of waiting) stop(reason)
    },
  }
}
