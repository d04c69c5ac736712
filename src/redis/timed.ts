import { RedisUnavailableError } from './redis-client.js'

/**
 * Calls `fn` once `ms` have passed and the event loop has then read its sockets once more;
 * returns what cancels it. Each turn of the loop runs its due timers before it reads the
 * sockets: after a stall of the process (a busy CPU, a long synchronous task), a plain timer
 * would fire ahead of a reply that came in time and is only waiting to be read, and Redis would
 * be judged slow for this process's own slowness. The extra turn lets the reply be read first.
 */
export function afterReads(ms: number, fn: () => void): () => void {
  let verdict: NodeJS.Immediate | undefined
  const timer = setTimeout(() => {
    verdict = setImmediate(fn)
  }, ms)
  return () => {
    clearTimeout(timer)
    clearImmediate(verdict)
  }
}

/**
 * Starts `send` once `ready` resolves and settles as it does, or rejects with
 * `RedisUnavailableError` when `timeout` ms pass first (as `afterReads` counts them). An
 * operation sent may settle after that: its late result or error is dropped. One still waiting
 * for `ready` then is never sent.
 *
 * Once sent, the time is counted from the write: node-redis writes its commands in a
 * `setImmediate`, so a process busy with a burst of calls may write one long after it was
 * sent, and the time it spent so is its own, not Redis'. The mark is taken in an immediate
 * queued just after node-redis' write.
 */
export function timed<T>(
  timeout: number,
  ready: Promise<void>,
  send: () => Promise<T>,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let expired = false
    let written: number | undefined
    const judge = (): void => {
      const since = written === undefined ? 0 : performance.now() - written
      if (written !== undefined && since < timeout) {
        cancel = afterReads(timeout - since, judge)
        return
      }
      expired = true
      reject(new RedisUnavailableError(`Redis did not answer within ${timeout} ms`))
    }
    let cancel = afterReads(timeout, judge)
    const start = (): Promise<T> => {
      if (expired) return Promise.resolve(undefined as T)
      const sent = send()
      setImmediate(() => {
        written = performance.now()
      })
      return sent
    }
    ready.then(start).then(
      (value) => {
        cancel()
        resolve(value)
      },
      (error: unknown) => {
        cancel()
        reject(error)
      },
    )
  })
}
