import { randomUUID } from 'node:crypto'
import { TimeoutError } from '../core/errors.js'
import { func, integer, timerMs } from '../core/validate.js'
import type { QueueBackend, QueueCounts, QueueEvent } from './backend.js'
import { openBullBackend } from './bullmq-backend.js'
import {
  checkCall,
  checkJobId,
  checkRequest,
  type JobInfo,
  type QueuedRequest,
  redact,
} from './job.js'
import { MemoryBackend } from './memory-backend.js'
import { type QueueOptions, resolveQueueOptions } from './options.js'
import { createRunner, httpJob, type Runner } from './runner.js'

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
  const listener = func<(event: QueueEvent) => void>('onEvent', onEvent) ?? (() => {})
  const resolved = resolveQueueOptions(rest)
  const runner: Runner | undefined = resolved.worker
    ? createRunner(rest, resolved.redis)
    : undefined
  const safeListener = (event: QueueEvent) => {
    try {
      listener(event)
    } catch {
      // A listener's failure is not the job's.
    }
  }
  const opening: Promise<QueueBackend> =
    resolved.redis === undefined
      ? Promise.resolve(new MemoryBackend(resolved, safeListener))
      : openBullBackend(resolved, resolved.redis, safeListener)
  opening.then((b) => runner && b.start(runner.run)).catch(() => {})
  let closed = false
  const backend = async () => {
    if (closed) throw new TypeError(`queue ${resolved.name} used after close()`)
    return opening
  }
  const submit = async (data: (key: string) => ReturnType<typeof httpJob>, o: JobOptions = {}) => {
    const id = o.id === undefined ? randomUUID() : checkJobId('id', o.id)
    const key = o.idempotencyKey === undefined ? id : checkJobId('idempotencyKey', o.idempotencyKey)
    const delay = timerMs('delay', o.delay, 0)
    await (await backend()).add(id, data(key), { delay })
    return id
  }
  const shown = (info: JobInfo | undefined) =>
    info === undefined ? undefined : { ...info, data: redact(info.data) }
  const dead: DeadLetterList = {
    list: async ({ start = 0, count = 100 } = {}) =>
      (await (await backend()).dead(integer('start', start, 0), integer('count', count, 100))).map(
        (i) => shown(i) as JobInfo,
      ),
    retry: async (id) => (await backend()).retry(id),
    retryAll: async () => retryAll(await backend()),
    remove: async (id) => (await backend()).remove(id),
    purge: async () => (await backend()).purge(),
  }
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
    get: async (id) => shown(await (await backend()).get(id)),
    wait: async (id, o = {}) => shown(await waitFor(await backend(), id, o.timeout)) as JobInfo,
    counts: async () => (await backend()).counts(),
    dead,
    async close(o = {}) {
      if (closed) return
      closed = true
      const timeout = timerMs('timeout', o.timeout, 10_000)
      try {
        await (await opening).close(timeout)
      } finally {
        await runner?.close()
      }
    },
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

async function waitFor(backend: QueueBackend, id: string, timeout: unknown): Promise<JobInfo> {
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
