import { afterEach, describe, expect, it } from 'vitest'
import type { QueueBackend, QueueEvent, RunJob } from '../../src/queue/backend.js'
import type { JobData, JobInfo } from '../../src/queue/job.js'
import { type QueueOptions, resolveQueueOptions } from '../../src/queue/options.js'
import { JobVerdictError } from '../../src/queue/verdict.js'

/** Opens a backend for the resolved options, reporting to `onEvent`. */
export type OpenBackend = (
  options: ReturnType<typeof resolveQueueOptions>,
  onEvent: (event: QueueEvent) => void,
) => Promise<QueueBackend>

const job = (n: number): JobData => ({ kind: 'call', name: 'f', args: [n], key: `k-${n}` })

/** Resolves once `check` holds, looking every 20 ms; throws past `ms`. */
async function until(check: () => Promise<boolean>, ms = 8_000): Promise<void> {
  const end = performance.now() + ms
  while (!(await check())) {
    if (performance.now() > end) throw new Error(`not reached within ${ms} ms`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

const events = (info: JobInfo | undefined) => info?.history.map((h) => h.event)

/**
 * What every `QueueBackend` must do, run against each of them (memory, BullMQ on Redis): the
 * same states, attempts, pauses, history, dead-letter list and shutdown. Each test opens
 * backends on a queue name of its own, so a Redis shared by many tests never mixes them up.
 * Durations are real and short: BullMQ keeps its own clock, in Redis.
 */
export function queueBackendConformance(name: string, open: OpenBackend): void {
  describe(`${name} (QueueBackend conformance)`, () => {
    const opened: QueueBackend[] = []
    let made = 0
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((b) => b.close(1_000)))
    })

    async function backend(options: Partial<QueueOptions> = {}) {
      made++
      const seen: QueueEvent[] = []
      const resolved = resolveQueueOptions({
        name: `conf-${made}`,
        lease: 1_000,
        attempts: 3,
        backoff: { delay: 20, jitter: 0 },
        ...options,
      })
      const b = await open(resolved, (event) => seen.push(event))
      opened.push(b)
      return { b, seen }
    }

    it('stores a job once per id, waiting, with no attempt and no history yet', async () => {
      const { b } = await backend()
      expect(await b.add('a-1', job(1), { delay: 0 })).toBe(true)
      expect(await b.add('a-1', job(2), { delay: 0 })).toBe(false)
      const info = await b.get('a-1')
      expect(info).toMatchObject({ id: 'a-1', state: 'waiting', data: job(1), attemptsMade: 0 })
      expect(info?.history).toEqual([])
      expect(info?.createdAt).toBeGreaterThan(0)
      expect(await b.get('nobody')).toBeUndefined()
      expect(await b.counts()).toEqual({ waiting: 1, delayed: 0, active: 0, completed: 0, dead: 0 })
    })

    it('runs a job and keeps its result, with a started and a completed entry', async () => {
      const { b, seen } = await backend()
      await b.add('r-1', job(7), { delay: 0 })
      b.start(async (data) => ({ doubled: Number(data.kind === 'call' ? data.args[0] : 0) * 2 }))
      await until(async () => (await b.get('r-1'))?.state === 'completed')
      const info = await b.get('r-1')
      expect(info).toMatchObject({ state: 'completed', result: { doubled: 14 }, attemptsMade: 1 })
      expect(events(info)).toEqual(['started', 'completed'])
      expect(info?.history[0]).toMatchObject({ pid: process.pid })
      expect(info?.finishedAt).toBeGreaterThanOrEqual(info?.createdAt ?? 0)
      expect(seen).toEqual([{ type: 'completed', id: 'r-1' }])
      expect(await b.counts()).toMatchObject({ completed: 1, waiting: 0, active: 0 })
    })

    it('retries a failing job after its backoff, then lists it dead with every attempt', async () => {
      const { b, seen } = await backend()
      await b.add('f-1', job(1), { delay: 0 })
      b.start(async () => {
        throw new Error('boom')
      })
      await until(async () => (await b.get('f-1'))?.state === 'dead')
      const info = await b.get('f-1')
      expect(info).toMatchObject({ attemptsMade: 3, error: 'Error: boom' })
      expect(events(info)).toEqual(['started', 'failed', 'started', 'failed', 'started', 'dead'])
      expect(info?.history[1]).toMatchObject({ reason: 'Error: boom', delay: 20 })
      expect(info?.history[3]).toMatchObject({ delay: 40 })
      expect(seen.map((e) => e.type)).toEqual(['failed', 'failed', 'dead'])
      expect((await b.dead(0, 10)).map((i) => i.id)).toEqual(['f-1'])
    })

    it('sends a job whose run says dead to the list at once, one attempt spent', async () => {
      const { b } = await backend()
      await b.add('d-1', job(1), { delay: 0 })
      b.start(async () => {
        throw new JobVerdictError({ kind: 'dead', reason: 'upstream answered 404' })
      })
      await until(async () => (await b.get('d-1'))?.state === 'dead')
      expect(await b.get('d-1')).toMatchObject({ attemptsMade: 1, error: 'upstream answered 404' })
      expect(await b.counts()).toMatchObject({ dead: 1, waiting: 0, delayed: 0 })
    })

    it('puts a paused job off without spending an attempt, until maxPauses', async () => {
      const { b, seen } = await backend({ attempts: 1, maxPauses: 2 })
      await b.add('p-1', job(1), { delay: 0 })
      let runs = 0
      b.start(async () => {
        runs++
        throw new JobVerdictError({ kind: 'pause', delay: 30, reason: 'Retry-After 30 ms' })
      })
      await until(async () => (await b.get('p-1'))?.state === 'dead')
      const info = await b.get('p-1')
      expect(runs).toBe(3)
      expect(info?.attemptsMade).toBe(1)
      expect(events(info)).toEqual(['started', 'paused', 'started', 'paused', 'started', 'dead'])
      expect(info?.history[1]).toMatchObject({ reason: 'Retry-After 30 ms', delay: 30 })
      expect(info?.error).toContain('maxPauses')
      expect(seen.map((e) => e.type)).toEqual(['paused', 'paused', 'dead'])
    })

    it('holds a delayed job until its time', async () => {
      const { b } = await backend()
      await b.add('l-1', job(1), { delay: 300 })
      expect((await b.get('l-1'))?.state).toBe('delayed')
      expect(await b.counts()).toMatchObject({ delayed: 1, waiting: 0 })
      b.start(async () => 'done')
      await until(async () => (await b.get('l-1'))?.state === 'completed')
    })

    it('retries a dead job with its attempts reset, marked to be resent, and only a dead one', async () => {
      const { b } = await backend({ attempts: 1 })
      let fixed = false
      const resend: unknown[] = []
      await b.add('t-1', job(1), { delay: 0 })
      b.start(async (data) => {
        resend.push(data.resend)
        if (!fixed) throw new Error('down')
        return 'up'
      })
      await until(async () => (await b.get('t-1'))?.state === 'dead')
      fixed = true
      expect(await b.retry('t-1')).toBe(true)
      await until(async () => (await b.get('t-1'))?.state === 'completed')
      const info = await b.get('t-1')
      expect(info?.result).toBe('up')
      expect(events(info)).toEqual(['started', 'dead', 'retried', 'started', 'completed'])
      // A person sent it back: its call is sent even if an earlier run's outcome is unknown.
      expect(resend).toEqual([undefined, true])
      expect(await b.retry('t-1')).toBe(false)
      expect(await b.retry('nobody')).toBe(false)
    })

    it('lists dead jobs oldest first, page by page, removes one and purges the rest', async () => {
      const { b } = await backend({ attempts: 1 })
      b.start(async () => {
        throw new JobVerdictError({ kind: 'dead', reason: 'no' })
      })
      for (const id of ['x-1', 'x-2', 'x-3']) {
        await b.add(id, job(1), { delay: 0 })
        await until(async () => (await b.get(id))?.state === 'dead')
      }
      expect((await b.dead(0, 10)).map((i) => i.id)).toEqual(['x-1', 'x-2', 'x-3'])
      expect((await b.dead(1, 1)).map((i) => i.id)).toEqual(['x-2'])
      expect(await b.dead(0, 0)).toEqual([])
      expect(await b.remove('x-2')).toBe(true)
      expect(await b.remove('x-2')).toBe(false)
      expect(await b.get('x-2')).toBeUndefined()
      expect(await b.purge()).toBe(2)
      expect(await b.counts()).toMatchObject({ dead: 0 })
    })

    it('removes a waiting job before it runs', async () => {
      const { b } = await backend()
      await b.add('w-1', job(1), { delay: 0 })
      expect(await b.remove('w-1')).toBe(true)
      expect(await b.counts()).toMatchObject({ waiting: 0 })
      expect(await b.remove('w-1')).toBe(false)
      expect(await b.remove('nobody')).toBe(false)
      expect(await b.add('w-1', job(2), { delay: 0 })).toBe(true)
    })

    it('does not remove a job while it runs', async () => {
      const { b } = await backend()
      let finish = () => {}
      await b.add('m-1', job(1), { delay: 0 })
      b.start(() => new Promise<void>((resolve) => (finish = resolve)))
      await until(async () => (await b.get('m-1'))?.state === 'active')
      expect(await b.remove('m-1')).toBe(false)
      finish()
      await until(async () => (await b.get('m-1'))?.state === 'completed')
    })

    it('runs at most `concurrency` jobs at once', async () => {
      const { b } = await backend({ concurrency: 2 })
      let running = 0
      let most = 0
      const run: RunJob = async () => {
        running++
        most = Math.max(most, running)
        await new Promise((r) => setTimeout(r, 30))
        running--
      }
      for (let i = 0; i < 6; i++) await b.add(`c-${i}`, job(i), { delay: 0 })
      b.start(run)
      await until(async () => (await b.counts()).completed === 6)
      expect(most).toBe(2)
    })

    it('hands a job still running at close() back, aborting its run, no attempt spent', async () => {
      const { b, seen } = await backend()
      await b.add('h-1', job(1), { delay: 0 })
      let aborted = false
      b.start(
        (_data, { signal }) =>
          new Promise((_resolve, reject) => {
            signal.addEventListener('abort', () => {
              aborted = true
              reject(signal.reason)
            })
          }),
      )
      await until(async () => (await b.get('h-1'))?.state === 'active')
      opened.splice(opened.indexOf(b), 1)
      await b.close(50)
      expect(aborted).toBe(true)
      expect(seen).toMatchObject([{ type: 'handedBack', id: 'h-1' }])
    })
  })
}
