import { integer } from '../core/validate.js'
import type { QueueBackend } from './backend.js'
import { type JobInfo, redact } from './job.js'

/** The dead-letter list: every job that failed for good, with its request and its history. */
export interface DeadLetterList {
  /** Dead jobs, oldest first (`start` 0, `count` 100 unless given), credentials redacted. */
  list(options?: { start?: number; count?: number }): Promise<JobInfo[]>
  /** Sends one dead job back to wait, its attempts reset; `false` if it is not dead. */
  retry(id: string): Promise<boolean>
  /** Sends every dead job back; returns how many went. */
  retryAll(): Promise<number>
  /** Deletes one job (dead or not, unless running). */
  remove(id: string): Promise<boolean>
  /** Deletes every dead job; returns how many. */
  purge(): Promise<number>
}

/** A job as it may be shown: credentials redacted. */
export const shown = (info: JobInfo): JobInfo => ({ ...info, data: redact(info.data) })

/** The dead-letter list of the backend `backend()` resolves with (it throws once closed). */
export function createDeadLetterList(backend: () => Promise<QueueBackend>): DeadLetterList {
  return {
    async list({ start = 0, count = 100 } = {}) {
      const from = integer('start', start, 0)
      const many = integer('count', count, 100)
      return (await (await backend()).dead(from, many)).map(shown)
    },
    retry: async (id) => (await backend()).retry(id),
    retryAll: async () => retryAll(await backend()),
    remove: async (id) => (await backend()).remove(id),
    purge: async () => (await backend()).purge(),
  }
}

async function retryAll(backend: QueueBackend): Promise<number> {
  let sent = 0
  // Each retry leaves the list, so the first page is always the next one.
  for (let page = await backend.dead(0, 500); page.length > 0; page = await backend.dead(0, 500)) {
    let moved = 0
    for (const job of page) if (await backend.retry(job.id)) moved++
    // Jobs that would not move (removed or taken meanwhile) must not keep the loop going.
    if (moved === 0) return sent
    sent += moved
  }
  return sent
}
