import { randomUUID } from 'node:crypto'
import { func, timerMs } from '../core/validate.js'
import type { QueueBackend, QueueCounts, QueueEvent } from './backend.js'
import { openBullBackend } from './bullmq-backend.js'
import { createDeadLetterList, type DeadLetterList, shown } from './dead-letter.js'
import {
  checkCall,
  checkJobId,
  checkRequest,
  type JobData,
  type JobInfo,
  type QueuedRequest,
} from './job.js'
import { MemoryBackend } from './memory-backend.js'
import { type QueueOptions, type ResolvedQueueOptions, resolveQueueOptions } from './options.js'
import { createRunner, httpJob } from './runner.js'
import { waitFor } from './wait-for.js'

/** Per-job options of `add` and `call`. */
export interface JobOptions {
  /**
   * The job's id: a second `add` with an id that still exists adds nothing and returns it.
   * 1 to 255 printable ASCII characters, not digits only, no `:`. @default a random UUID
   */
  id?: string
  /** The key its call is recorded under on the shared idempotency records. @default the id */
  idempotencyKey?: string
  /** ms before the job may first run. @default 0 */
  delay?: number
}

/** A queue of calls that can wait. Build it with `createQueue`. */
export interface BreakwaterQueue {
  /** Queues an HTTP call; resolves with its id as soon as it is stored. */
  add(request: QueuedRequest, options?: JobOptions): Promise<string>
  /** Queues a call of the function registered as `name`, with JSON arguments. */
  call(name: string, args: readonly unknown[], options?: JobOptions): Promise<string>
  /** The job now, credentials redacted; `undefined` if unknown (or removed after completing). */
  get(id: string): Promise<JobInfo | undefined>
  /**
   * Resolves once the job has completed or died, polling; rejects with `TimeoutError` after
   * `timeout` ms (@default 60_000).
   */
  wait(id: string, options?: { timeout?: number }): Promise<JobInfo>
  counts(): Promise<QueueCounts>
  readonly dead: DeadLetterList
  /**
   * Stops taking jobs and waits up to `timeout` ms (@default 10_000) for the running ones; those
   * still running are aborted and handed back to the queue, to run again elsewhere or later.
   */
  close(options?: { timeout?: number }): Promise<void>
}

/** `createQueue` options: the queue's own, plus `onEvent` for what this process's worker does. */
export interface CreateQueueOptions extends QueueOptions {
  /** Called for every job this process's worker completes, fails, pauses, kills or hands back. */
  onEvent?: (event: QueueEvent) => void
}

/**
 * A durable queue of calls: each job runs through breakwater (cache, coalescing, shared rate
 * limits, breaker, retries, idempotency), is retried across time with backoff, put off without
 * spending an attempt when a server or a bucket asks for time, and set aside in the dead-letter
 * list when it fails for good. On Redis (`redis`) it is shared by every process and survives
 * crashes; without, it lives in this process's memory and is not durable.
 *
 * @example
 * const queue = createQueue({ name: 'enrich', redis: url, fetch: { rateLimit: { perSecond: 50 } } })
 * const id = await queue.add({ method: 'POST', url, body: JSON.stringify(payload) })
 * const { state, result } = await queue.wait(id, { timeout: 600_000 })
 */
export function createQueue(options: CreateQueueOptions): BreakwaterQueue {
  const { onEvent, ...rest } = options
  const listener = quiet(func<(event: QueueEvent) => void>('onEvent', onEvent))
  const resolved = resolveQueueOptions(rest)
  const runner = resolved.worker ? createRunner(rest, resolved) : undefined
  const opening = openBackend(resolved, listener)
  let closed = false
  // A close() before the worker could start must find it started, or never starting.
  const starting = Promise.all([opening, runner?.ready()])
    .then(([b]) => runner && !closed && b.start(runner.run))
    .catch(() => {})
  const backend = async () => {
    if (closed) throw new TypeError(`queue ${resolved.name} used after close()`)
    return opening
  }
  const submit = createSubmit(backend)
  return {
    add: async (request, o) => {
      const checked = checkRequest(request)
      return submit((key) => httpJob(checked, key), o)
    },
    call: async (name, args, o) => {
      const checked = checkCall(name, args)
      if (runner !== undefined && !runner.has(name)) {
        throw new TypeError(`call: no function "${name}" in functions`)
      }
      return submit((key) => ({ kind: 'call', name, args: checked, key }), o)
    },
    get: async (id) => {
      const info = await (await backend()).get(id)
      return info === undefined ? undefined : shown(info)
    },
    wait: async (id, o = {}) => shown(await waitFor(await backend(), id, o.timeout)),
    counts: async () => (await backend()).counts(),
    dead: createDeadLetterList(backend),
    async close(o = {}) {
      const timeout = timerMs('timeout', o.timeout, 10_000)
      if (closed) return
      closed = true
      await starting
      try {
        await (await opening).close(timeout)
      } finally {
        await runner?.close()
      }
    },
  }
}

/** The listener, or nothing; a listener's failure is not the job's. */
function quiet(listener: ((event: QueueEvent) => void) | undefined): (event: QueueEvent) => void {
  return (event) => {
    try {
      listener?.(event)
    } catch {
      // Swallowed on purpose: the job's outcome stands whatever the listener does.
    }
  }
}

/** The memory backend without `redis`; BullMQ on Redis with it. */
function openBackend(
  options: ResolvedQueueOptions,
  onEvent: (event: QueueEvent) => void,
): Promise<QueueBackend> {
  return options.redis === undefined
    ? Promise.resolve(new MemoryBackend(options, onEvent))
    : openBullBackend(options, options.redis, onEvent)
}

/** Stores a job under its id (the caller's, or a fresh UUID) and resolves with the id. */
function createSubmit(backend: () => Promise<QueueBackend>) {
  return async (data: (key: string) => JobData, o: JobOptions = {}): Promise<string> => {
    const id = o.id === undefined ? randomUUID() : checkJobId('id', o.id)
    const key = o.idempotencyKey === undefined ? id : checkJobId('idempotencyKey', o.idempotencyKey)
    const delay = timerMs('delay', o.delay, 0)
    await (await backend()).add(id, data(key), { delay })
    return id
  }
}
