import type { JobData, JobHistoryEntry, JobInfo } from './job.js'

/** What a worker's run is given besides the job. */
export interface RunContext {
  readonly id: string
  /** Aborted when the worker shuts down with the job still running: it is handed back. */
  readonly signal: AbortSignal
}

/**
 * Runs one job: resolves with its result, or throws a `JobVerdictError` (pause, fail, dead);
 * anything else it throws counts as a failed attempt.
 */
export type RunJob = (data: JobData, context: RunContext) => Promise<unknown>

/** Jobs per state, as `counts()` and `breakwater queue stats` show them. */
export interface QueueCounts {
  readonly waiting: number
  readonly delayed: number
  readonly active: number
  readonly completed: number
  readonly dead: number
}

/** What this process's worker did with a job, for `onEvent`. */
export interface QueueEvent {
  readonly type: 'completed' | 'failed' | 'paused' | 'dead' | 'handedBack'
  readonly id: string
  readonly reason?: string
  /** ms the job was put off for. */
  readonly delay?: number
}

/** What `add` is told besides the job. */
export interface AddOptions {
  /** ms before the job may first run. */
  readonly delay: number
}

/**
 * Where jobs live and how they are run: the memory backend (one process, not durable) and
 * BullMQ on Redis. Both keep the same history and dead-letter list.
 */
export interface QueueBackend {
  /** Stores the job; `false` when a job of that id already exists (it is not replaced). */
  add(id: string, data: JobData, options: AddOptions): Promise<boolean>
  /** The job, unredacted, or `undefined` if there is none of that id (or it was removed). */
  get(id: string): Promise<JobInfo | undefined>
  counts(): Promise<QueueCounts>
  /** Dead jobs, oldest first, from `start` for `count`. */
  dead(start: number, count: number): Promise<JobInfo[]>
  /** Sends a dead job back to wait with its attempts reset; `false` if it is not dead. */
  retry(id: string): Promise<boolean>
  /** Removes a job whatever its state, unless it is running; `false` if there was none. */
  remove(id: string): Promise<boolean>
  /** Removes every dead job; returns how many. */
  purge(): Promise<number>
  /** Starts taking jobs. */
  start(run: RunJob): void
  /**
   * Stops taking jobs, waits up to `timeout` ms for the running ones, aborts the rest (their
   * runs hand them back), then releases what the backend holds.
   */
  close(timeout: number): Promise<void>
}

/** A history entry of this process, now. */
export const entry = (
  event: JobHistoryEntry['event'],
  extra: { reason?: string; delay?: number } = {},
): JobHistoryEntry => ({ at: Date.now(), event, pid: process.pid, ...extra })
