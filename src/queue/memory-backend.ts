import type { AddOptions, QueueBackend, QueueCounts, QueueEvent, RunJob } from './backend.js'
import { entry } from './backend.js'
import type { JobData, JobHistoryEntry, JobInfo, JobState } from './job.js'
import { backoffDelay, type ResolvedQueueOptions } from './options.js'
import { type Step, stepOf } from './verdict.js'

interface MemoryJob {
  readonly id: string
  data: JobData
  state: JobState
  result?: unknown
  error?: string
  attemptsMade: number
  pauses: number
  readonly history: JobHistoryEntry[]
  readonly createdAt: number
  finishedAt?: number
  timer?: NodeJS.Timeout
}

/**
 * The queue in this process's memory: the same states, attempts, pauses, history and
 * dead-letter list as on Redis, but lost when the process exits. For tests and small scripts.
 */
export class MemoryBackend implements QueueBackend {
  readonly #options: ResolvedQueueOptions
  readonly #onEvent: (event: QueueEvent) => void
  readonly #jobs = new Map<string, MemoryJob>()
  readonly #ready: string[] = []
  readonly #running = new Map<string, { controller: AbortController; done: Promise<void> }>()
  #run: RunJob | undefined
  #closed = false

  constructor(options: ResolvedQueueOptions, onEvent: (event: QueueEvent) => void) {
    this.#options = options
    this.#onEvent = onEvent
  }

  async add(id: string, data: JobData, { delay }: AddOptions): Promise<boolean> {
    this.#prune()
    if (this.#jobs.has(id)) return false
    const job: MemoryJob = {
      id,
      data,
      state: 'waiting',
      attemptsMade: 0,
      pauses: 0,
      history: [],
      createdAt: Date.now(),
    }
    this.#jobs.set(id, job)
    if (delay > 0) this.#schedule(job, delay)
    else this.#enqueue(job)
    return true
  }

  async get(id: string): Promise<JobInfo | undefined> {
    this.#prune()
    const job = this.#jobs.get(id)
    return job === undefined ? undefined : infoOf(job)
  }

  async counts(): Promise<QueueCounts> {
    this.#prune()
    const counts = { waiting: 0, delayed: 0, active: 0, completed: 0, dead: 0 }
    for (const job of this.#jobs.values()) counts[job.state]++
    return counts
  }

  async dead(start: number, count: number): Promise<JobInfo[]> {
    const dead = [...this.#jobs.values()].filter((j) => j.state === 'dead')
    dead.sort((a, b) => (a.finishedAt ?? 0) - (b.finishedAt ?? 0))
    return dead.slice(start, start + count).map(infoOf)
  }

  async retry(id: string): Promise<boolean> {
    const job = this.#jobs.get(id)
    if (job?.state !== 'dead') return false
    job.attemptsMade = 0
    job.pauses = 0
    job.data = { ...job.data, resend: true }
    delete job.finishedAt
    job.history.push(entry('retried'))
    this.#enqueue(job)
    return true
  }

  async remove(id: string): Promise<boolean> {
    const job = this.#jobs.get(id)
    if (job === undefined || job.state === 'active') return false
    clearTimeout(job.timer)
    this.#jobs.delete(id)
    const at = this.#ready.indexOf(id)
    if (at >= 0) this.#ready.splice(at, 1)
    return true
  }

  async purge(): Promise<number> {
    const dead = [...this.#jobs.values()].filter((j) => j.state === 'dead')
    for (const job of dead) this.#jobs.delete(job.id)
    return dead.length
  }

  start(run: RunJob): void {
    this.#run = run
    this.#pump()
  }

  async close(timeout: number): Promise<void> {
    this.#closed = true
    for (const job of this.#jobs.values()) clearTimeout(job.timer)
    const running = [...this.#running.values()]
    let timer: NodeJS.Timeout | undefined
    const late = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeout)
    })
    await Promise.race([Promise.all(running.map((r) => r.done)), late])
    clearTimeout(timer)
    for (const r of this.#running.values()) r.controller.abort(new Error('queue closed'))
    await Promise.all([...this.#running.values()].map((r) => r.done))
  }

  #enqueue(job: MemoryJob): void {
    job.state = 'waiting'
    this.#ready.push(job.id)
    this.#pump()
  }

  #schedule(job: MemoryJob, delay: number): void {
    job.state = 'delayed'
    if (this.#closed) return
    job.timer = setTimeout(() => {
      delete job.timer
      this.#enqueue(job)
    }, delay)
  }

  #pump(): void {
    const run = this.#run
    if (run === undefined) return
    while (!this.#closed && this.#running.size < this.#options.concurrency) {
      const id = this.#ready.shift()
      if (id === undefined) return
      const job = this.#jobs.get(id)
      if (job === undefined || job.state !== 'waiting') continue
      const controller = new AbortController()
      const done = this.#execute(job, run, controller.signal)
      this.#running.set(id, { controller, done })
    }
  }

  async #execute(job: MemoryJob, run: RunJob, signal: AbortSignal): Promise<void> {
    job.state = 'active'
    job.history.push(entry('started'))
    // Let `#pump` record the run before it can end.
    await Promise.resolve()
    try {
      const result = await run(job.data, { id: job.id, signal })
      job.result = result
      job.attemptsMade++
      this.#finish(job, 'completed')
      this.#onEvent({ type: 'completed', id: job.id })
    } catch (error) {
      const step = stepOf(error, signal, job.pauses, this.#options.maxPauses, Date.now())
      this.#apply(job, step)
    } finally {
      this.#running.delete(job.id)
      this.#pump()
    }
  }

  #apply(job: MemoryJob, step: Step): void {
    const { reason } = step
    job.error = reason
    if (step.kind === 'handBack') {
      job.history.push(entry('handedBack', { reason }))
      job.state = 'waiting'
      this.#ready.unshift(job.id)
      this.#onEvent({ type: 'handedBack', id: job.id, reason })
      return
    }
    if (step.kind === 'pause') {
      job.pauses++
      job.history.push(entry('paused', { reason, delay: step.delay }))
      this.#schedule(job, step.delay)
      this.#onEvent({ type: 'paused', id: job.id, reason, delay: step.delay })
      return
    }
    job.attemptsMade++
    if (step.kind === 'fail' && job.attemptsMade < this.#options.attempts) {
      const delay = backoffDelay(this.#options.backoff, job.attemptsMade, Math.random())
      job.history.push(entry('failed', { reason, delay }))
      this.#schedule(job, delay)
      this.#onEvent({ type: 'failed', id: job.id, reason, delay })
      return
    }
    job.history.push(entry('dead', { reason }))
    this.#finish(job, 'dead')
    this.#onEvent({ type: 'dead', id: job.id, reason })
  }

  #finish(job: MemoryJob, state: 'completed' | 'dead'): void {
    job.state = state
    job.finishedAt = Date.now()
    if (state === 'completed') job.history.push(entry('completed'))
  }

  /** Completed jobs leave once `keepCompleted` has passed, as BullMQ's `removeOnComplete`. */
  #prune(): void {
    const before = Date.now() - this.#options.keepCompleted
    for (const job of this.#jobs.values()) {
      if (job.state === 'completed' && (job.finishedAt ?? 0) < before) this.#jobs.delete(job.id)
    }
  }
}

function infoOf(job: MemoryJob): JobInfo {
  return {
    id: job.id,
    state: job.state,
    data: job.data,
    ...(job.result === undefined ? {} : { result: structuredClone(job.result) }),
    ...(job.error === undefined ? {} : { error: job.error }),
    attemptsMade: job.attemptsMade,
    history: [...job.history],
    createdAt: job.createdAt,
    ...(job.finishedAt === undefined ? {} : { finishedAt: job.finishedAt }),
  }
}
