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
 */
export function timed<T>(
  timeout: number,
  ready: Promise<void>,
  send: () => Promise<T>,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let expired = false
    const cancel = afterReads(timeout, () => {
      expired = true
      reject(new RedisUnavailableError(`Redis did not answer within ${timeout} ms`))
    })
    ready
      .then(() => (expired ? (undefined as T) : send()))
      .then(
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
