import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { createQueue } from '../../src/queue/index.js'
import { ChildScript } from '../helpers/child-process.js'
import { startQuotaServer } from '../helpers/quota-server.js'
import { rawClient, redisUrl, testNamespace } from '../helpers/redis.js'
import { reply, startUpstream } from '../helpers/upstream.js'

const worker = fileURLToPath(new URL('../../bench/scenarios/queue-drain-child.ts', import.meta.url))
const prefix = testNamespace('queue-fleet').replaceAll(':', '-')
const children: ChildScript<unknown>[] = []

afterAll(async () => {
  await Promise.all(children.map((c) => c.kill()))
  const client = await rawClient()
  for await (const keys of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 1_000 })) {
    if (keys.length > 0) await client.del(keys)
  }
  await client.close()
})

/** A worker process on `name`; `perSecond` 0 means no rate limit. */
async function startWorker(
  name: string,
  lease: number,
  perSecond = 0,
  capacity = 1,
  onUnknownOutcome: 'resend' | 'dead' = 'resend',
): Promise<ChildScript<unknown>> {
  const args = [
    redisUrl(),
    prefix,
    name,
    `${prefix}-bw-${name}`,
    perSecond,
    capacity,
    8,
    lease,
    onUnknownOutcome,
  ]
  const child = new ChildScript<unknown>(worker, args.map(String))
  children.push(child)
  await child.ready
  return child
}

const until = async (check: () => Promise<boolean>, ms: number) => {
  const end = performance.now() + ms
  while (!(await check())) {
    if (performance.now() > end) throw new Error(`not reached within ${ms} ms`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

describe('a queue worked by several processes', () => {
  it('loses nothing and does nothing twice when a worker is SIGKILLed mid-run', async () => {
    const jobs = 300
    const seen = new Map<string, number>()
    const upstream = await startUpstream(async (_req, res, s) => {
      const key = String(s.headers['idempotency-key'])
      seen.set(key, (seen.get(key) ?? 0) + 1)
      await new Promise((r) => setTimeout(r, 5))
      reply(res, 200, key)
    })
    const producer = createQueue({ name: 'crash', prefix, redis: redisUrl(), worker: false })
    try {
      for (let i = 0; i < jobs; i++) {
        await producer.add({ method: 'POST', url: upstream.url, body: `${i}` }, { id: `job-${i}` })
      }
      const workers = await Promise.all([1, 2, 3, 4].map(() => startWorker('crash', 1_000)))
      await until(async () => (await producer.counts()).completed >= jobs / 3, 20_000)
      await workers[0]?.kill()
      workers.push(await startWorker('crash', 1_000))
      // The killed worker's jobs come back after its lease, and their idempotency records are
      // free by then: the queue's fetch holds them for the same lease.
      await until(async () => (await producer.counts()).completed === jobs, 30_000)
      for (const w of workers.slice(1)) w.go()
      await Promise.all(workers.slice(1).map((w) => w.result))
      expect(await producer.counts()).toMatchObject({ completed: jobs, dead: 0, waiting: 0 })
      for (let i = 0; i < jobs; i += 37) {
        expect((await producer.get(`job-${i}`))?.result).toMatchObject({ body: `job-${i}` })
      }
      expect(seen.size).toBe(jobs)
      // Sent twice only: calls the killed process had on the wire, at most its concurrency (8).
      const twice = [...seen.values()].filter((n) => n > 1).length
      expect(twice).toBeLessThanOrEqual(8)
    } finally {
      await producer.close()
      await upstream.close()
    }
  }, 90_000)

  it('sends a call that was on the wire when its worker was SIGKILLed once more, with the same key', async () => {
    const keys: string[] = []
    const upstream = await startUpstream((_req, res, s) => {
      keys.push(String(s.headers['idempotency-key']))
      // The first send is held: its worker dies before any answer comes.
      if (keys.length > 1) reply(res, 200, 'second')
    })
    const producer = createQueue({ name: 'held', prefix, redis: redisUrl(), worker: false })
    try {
      const first = await startWorker('held', 1_000)
      await producer.add({ method: 'POST', url: upstream.url, body: 'b' }, { id: 'held-1' })
      await until(async () => keys.length === 1, 10_000)
      await first.kill()
      const second = await startWorker('held', 1_000)
      const info = await producer.wait('held-1', { timeout: 20_000 })
      second.go()
      await second.result
      expect(info).toMatchObject({
        state: 'completed',
        result: { body: 'second', replayed: false },
      })
      // The repeat carries the job's key: an upstream that honours Idempotency-Key applies it once.
      expect(keys).toEqual(['held-1', 'held-1'])
      const starts = info.history.filter((h) => h.event === 'started').map((h) => h.pid)
      expect(starts).toEqual([first.process.pid, second.process.pid])
    } finally {
      await producer.close()
      await upstream.close()
    }
  }, 60_000)

  it('puts a job whose call was on the wire when its worker was SIGKILLed in the dead-letter list under onUnknownOutcome: dead, and sends it when retried', async () => {
    const keys: string[] = []
    const upstream = await startUpstream((_req, res, s) => {
      keys.push(String(s.headers['idempotency-key']))
      if (keys.length > 1) reply(res, 200, 'retried')
    })
    // A queue of its own on each run: a retried test must not find the last run's job dead.
    const name = `unknown-${process.hrtime.bigint()}`
    const producer = createQueue({ name, prefix, redis: redisUrl(), worker: false })
    try {
      const first = await startWorker(name, 1_000, 0, 1, 'dead')
      await producer.add({ method: 'POST', url: upstream.url, body: 'b' }, { id: 'unknown-1' })
      await until(async () => keys.length === 1, 10_000)
      await first.kill()
      const second = await startWorker(name, 1_000, 0, 1, 'dead')
      const dead = await producer.wait('unknown-1', { timeout: 20_000 })
      expect(dead).toMatchObject({ state: 'dead', attemptsMade: 1 })
      expect(dead.error).toMatch(/^outcome unknown: its call was sent by a worker that died/)
      expect(dead.error).toMatch(/"unknown-1"/)
      // Nothing was sent again: the upstream saw the key once.
      expect(keys).toEqual(['unknown-1'])
      // A person checked the upstream: the retry sends it, with the same key.
      expect(await producer.dead.retry('unknown-1')).toBe(true)
      const done = await producer.wait('unknown-1', { timeout: 20_000 })
      second.go()
      await second.result
      expect(done).toMatchObject({ state: 'completed', result: { body: 'retried' } })
      expect(keys).toEqual(['unknown-1', 'unknown-1'])
    } finally {
      await producer.close()
      await upstream.close()
    }
  }, 60_000)

  it('drains under the shared quota of four processes with no 429 and each job sent once', async () => {
    // As in bench/scenarios/shared-quota.ts: the server's burst leaves room for a process that
    // sends a little late what it was granted on time (30 tokens: 600 ms of a stalled event
    // loop on a loaded machine, far less than four processes each spending the quota alone
    // would send on top). Jobs wait their turn in the bucket while holding their lease: a long
    // one, so that four busy processes on a small machine keep it.
    const perSecond = 50
    const burst = 35
    const jobs = 200
    const server = await startQuotaServer({ perSecond, burst })
    // A queue of its own on each run: a retried test must not find the last run's jobs done.
    const name = `quota-${process.hrtime.bigint()}`
    const producer = createQueue({ name, prefix, redis: redisUrl(), worker: false })
    try {
      const workers = await Promise.all(
        [1, 2, 3, 4].map(() => startWorker(name, 10_000, perSecond, 5)),
      )
      for (let i = 0; i < jobs; i++) {
        await producer.add({ method: 'POST', url: server.url, body: `${i}` }, { id: `q-${i}` })
      }
      await until(async () => (await producer.counts()).completed === jobs, 40_000)
      for (const w of workers) w.go()
      await Promise.all(workers.map((w) => w.result))
      const best = burst + (perSecond * server.span) / 1_000
      expect({ rejected: server.rejected, admitted: server.admitted }).toEqual({
        rejected: 0,
        admitted: jobs,
      })
      // The goal is 90 % of the quota (measured 93 % here, four tsx processes on two cores, since
      // workers load undici before their first job): printed, not asserted, as a share of time
      // on a shared machine is no test. What must hold: no 429, and each job sent once.
      console.log(`queue drain: ${((100 * server.admitted) / best).toFixed(1)} % of the quota`)
    } finally {
      await producer.close()
      await server.close()
    }
  }, 60_000)
})
