import { TimeoutError } from '../core/errors.js'
import { timerMs } from '../core/validate.js'
import type { QueueBackend } from './backend.js'
import type { JobInfo } from './job.js'

/**
 * Polls the job until it has completed or died, 20 ms apart at first and at most 500 ms later
 * on; rejects with `TimeoutError` after `timeout` ms (60 s unless given).
 */
export async function waitFor(
  backend: QueueBackend,
  id: string,
  timeout: unknown,
): Promise<JobInfo> {
  const limit = timerMs('timeout', timeout, 60_000)
  const end = performance.now() + limit
  for (let pause = 20; ; pause = Math.min(500, pause * 1.5)) {
    const info = await backend.get(id)
    if (info === undefined) throw new RangeError(`wait: no job ${JSON.stringify(id)}`)
    if (info.state === 'completed' || info.state === 'dead') return info
    const left = end - performance.now()
    if (left <= 0) throw new TimeoutError(limit, `wait for job ${id}`)
    await new Promise((resolve) => setTimeout(resolve, Math.min(pause, left)))
  }
}
