import type { Job, Queue, Worker } from 'bullmq'
import type { AddOptions, QueueBackend, QueueCounts, QueueEvent, RunJob } from './backend.js'
import { entry } from './backend.js'
import type { JobData, JobHistoryEntry, JobInfo, JobState } from './job.js'
import { backoffDelay, type ResolvedQueueOptions } from './options.js'
import { type Step, stepOf } from './verdict.js'

type BullMQ = typeof import('bullmq')
type Client = { readonly isOpen: boolean; close(): Promise<unknown> }

/** The backoff type our jobs carry: the Worker's strategy reads the delay the run chose. */
const backoffType = 'breakwater'

/**
 * Opens the queue on Redis. BullMQ and node-redis load here, on first use, so that
 * `import('breakwater')` never pays for them.
 */
export async function openBullBackend(
  options: ResolvedQueueOptions,
  url: string,
  onEvent: (event: QueueEvent) => void,
): Promise<QueueBackend> {
  const [bull, { createClient }] = await Promise.all([
    import('bullmq').catch((error: unknown) => {
      throw new Error('breakwater/queue on Redis needs bullmq: npm install bullmq', {
        cause: error,
      })
    }),
    import('@redis/client'),
  ])
  const client = createClient({ url })
  // BullMQ reports connection trouble through its own objects; an unheard 'error' would throw.
  client.on('error', () => {})
  await client.connect()
  return new BullBackend(bull, client, options, onEvent)
}

class BullBackend implements QueueBackend {
  readonly #bull: BullMQ
  readonly #client: Client
  readonly #options: ResolvedQueueOptions
  readonly #onEvent: (event: QueueEvent) => void
  readonly #queue: Queue
  readonly #running = new Map<string, AbortController>()
  #worker: Worker | undefined

  constructor(
    bull: BullMQ,
    client: Client,
    options: ResolvedQueueOptions,
    onEvent: (e: QueueEvent) => void,
  ) {
    this.#bull = bull
    this.#client = client
    this.#options = options
    this.#onEvent = onEvent
    // BullMQ detects a node-redis client by its shape; its types only name ioredis.
    this.#queue = new bull.Queue(options.name, {
      connection: client as never,
      prefix: options.prefix,
    })
    this.#queue.on('error', () => {})
  }

  async add(id: string, data: JobData, { delay }: AddOptions): Promise<boolean> {
    // BullMQ ignores a duplicate id but answers as if it had added it: ask first.
    if ((await this.#queue.getJobState(id)) !== 'unknown') return false
    await this.#queue.add(data.kind, data, {
      jobId: id,
      delay,
      attempts: this.#options.attempts,
      backoff: { type: backoffType },
      removeOnComplete: { age: Math.ceil(this.#options.keepCompleted / 1_000) },
      // The failed set is the dead-letter list: never evicted.
      removeOnFail: false,
    })
    return true
  }

  async get(id: string): Promise<JobInfo | undefined> {
    // The state first: a job read after it is at least as far along, never behind it.
    const state = await this.#queue.getJobState(id)
    const job = await this.#bull.Job.fromId<JobData>(this.#queue, id)
    if (job === undefined || state === 'unknown') return undefined
    return this.#infoOf(job, stateOf(state))
  }

  async counts(): Promise<QueueCounts> {
    const c = await this.#queue.getJobCounts(
      'waiting',
      'prioritized',
      'delayed',
      'active',
      'completed',
      'failed',
    )
    return {
      waiting: (c.waiting ?? 0) + (c.prioritized ?? 0),
      delayed: c.delayed ?? 0,
      active: c.active ?? 0,
      completed: c.completed ?? 0,
      dead: c.failed ?? 0,
    }
  }

  async dead(start: number, count: number): Promise<JobInfo[]> {
    if (count <= 0) return []
    const jobs = await this.#queue.getJobs(['failed'], start, start + count - 1, true)
    return Promise.all(jobs.map((job) => this.#infoOf(job as Job<JobData>, 'dead')))
  }

  async retry(id: string): Promise<boolean> {
    const job = await this.#bull.Job.fromId<JobData>(this.#queue, id)
    if (job === undefined || (await job.getState()) !== 'failed') return false
    await job.log(JSON.stringify(entry('retried')))
    await job.updateData({ ...job.data, resend: true })
    await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true })
    return true
  }

  async remove(id: string): Promise<boolean> {
    // BullMQ answers 1 for an id it does not know as for one it removed.
    if ((await this.#queue.getJobState(id)) === 'unknown') return false
    return (await this.#queue.remove(id)) === 1
  }

  async purge(): Promise<number> {
    let removed = 0
    for (;;) {
      const ids = await this.#queue.clean(0, 1_000, 'failed')
      removed += ids.length
      if (ids.length < 1_000) return removed
    }
  }

  start(run: RunJob): void {
    const { lease, maxStalls, concurrency, name, prefix } = this.#options
    this.#worker = new this.#bull.Worker<JobData>(
      name,
      (job, token) => this.#process(job, token, run),
      {
        connection: this.#client as never,
        prefix,
        concurrency,
        lockDuration: lease,
        stalledInterval: Math.max(50, Math.round(lease / 2)),
        maxStalledCount: maxStalls,
        // Seconds of long poll on an empty queue: close() waits for it to end.
        drainDelay: 1,
        settings: { backoffStrategy: (_made, _type, error) => delayOf(error) },
      },
    )
    this.#worker.on('error', () => {})
  }

  async close(timeout: number): Promise<void> {
    const worker = this.#worker
    if (worker !== undefined) {
      const closing = worker.close()
      let timer: NodeJS.Timeout | undefined
      const late = new Promise<'late'>((resolve) => {
        timer = setTimeout(() => resolve('late'), timeout)
      })
      const first = await Promise.race([closing.then(() => 'closed' as const), late])
      clearTimeout(timer)
      // Runs still going are aborted: each hands its job back to the queue before it ends.
      if (first === 'late') for (const c of this.#running.values()) c.abort(new Error('closed'))
      await closing
    }
    await this.#queue.close()
    if (this.#client.isOpen) await this.#client.close()
  }

  async #process(job: Job<JobData>, token: string | undefined, run: RunJob): Promise<unknown> {
    const id = job.id as string
    const controller = new AbortController()
    this.#running.set(id, controller)
    try {
      await job.log(JSON.stringify(entry('started')))
      const result = await run(job.data, { id, signal: controller.signal })
      await job.log(JSON.stringify(entry('completed')))
      this.#onEvent({ type: 'completed', id })
      return result ?? null
    } catch (error) {
      // Starts that were neither attempts nor this run: pauses, hand-backs, crashes.
      const pauses = Math.max(0, job.attemptsStarted - job.attemptsMade - 1)
      const step = stepOf(error, controller.signal, pauses, this.#options.maxPauses, Date.now())
      throw await this.#settle(job, token, step)
    } finally {
      this.#running.delete(id)
    }
  }

  /** Records the step in the job's history and returns what to throw to BullMQ for it. */
  async #settle(job: Job<JobData>, token: string | undefined, step: Step): Promise<Error> {
    const id = job.id as string
    const { reason } = step
    if (step.kind === 'handBack' || step.kind === 'pause') {
      const delay = step.kind === 'pause' ? step.delay : 0
      const event = step.kind === 'pause' ? 'paused' : 'handedBack'
      await job.log(JSON.stringify(entry(event, { reason, delay })))
      await job.moveToDelayed(Date.now() + delay, token)
      this.#onEvent({ type: event, id, reason, delay })
      return new this.#bull.DelayedError()
    }
    if (step.kind === 'fail' && job.attemptsMade + 1 < this.#options.attempts) {
      const delay = backoffDelay(this.#options.backoff, job.attemptsMade + 1, Math.random())
      await job.log(JSON.stringify(entry('failed', { reason, delay })))
      this.#onEvent({ type: 'failed', id, reason, delay })
      return Object.assign(new Error(reason), { delay })
    }
    await job.log(JSON.stringify(entry('dead', { reason })))
    this.#onEvent({ type: 'dead', id, reason })
    return new this.#bull.UnrecoverableError(reason)
  }

  async #infoOf(job: Job<JobData>, state: JobState): Promise<JobInfo> {
    const { logs } = await this.#queue.getJobLogs(job.id as string, 0, -1, true)
    const history = logs.flatMap((line) => {
      try {
        return [JSON.parse(line) as JobHistoryEntry]
      } catch {
        return []
      }
    })
    return {
      id: job.id as string,
      state,
      data: job.data,
      ...(job.returnvalue === undefined || job.returnvalue === null
        ? {}
        : { result: job.returnvalue }),
      ...(job.failedReason ? { error: job.failedReason } : {}),
      attemptsMade: job.attemptsMade,
      history,
      createdAt: job.timestamp,
      ...(job.finishedOn === undefined ? {} : { finishedAt: job.finishedOn }),
    }
  }
}

function stateOf(bull: string): JobState {
  if (bull === 'failed') return 'dead'
  if (bull === 'completed' || bull === 'delayed' || bull === 'active') return bull
  return 'waiting'
}

function delayOf(error: Error | undefined): number {
  const delay = (error as { delay?: unknown } | undefined)?.delay
  return typeof delay === 'number' ? delay : 1_000
}
