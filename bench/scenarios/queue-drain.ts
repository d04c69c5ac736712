import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { once } from 'node:events'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { loadavg } from 'node:os'
import { fileURLToPath } from 'node:url'
import { type BreakwaterQueue, createQueue, type JobInfo } from '../../src/queue/index.js'
import { unknownOutcomeReason } from '../../src/queue/verdict.js'
import { type Check, type CountedRow, countedResult, type Scenario } from '../scenario.js'

const child = fileURLToPath(new URL('./queue-drain-child.ts', import.meta.url))
const main = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url))
/** The workers' `attempts` (queue-drain-child.ts). */
const attempts = 5
const processes = 4
const perSecond = 200
const burst = 20
const capacity = 5

/**
 * A local upstream that enforces a strict quota (a token bucket answering 429), fails a tenth of
 * the keys' first attempts with 500, fails the `hopeless` keys with 500 every time until
 * `fix()`, and counts the requests and successes of every idempotency key.
 */
async function startUpstream(hopeless: (index: number) => boolean) {
  let fixed = false
  let tokens = burst
  let last = performance.now()
  const requests = new Map<string, number>()
  const served = new Map<string, number>()
  const stats = { limited: 0, first: 0, latest: 0, stalls: 0, longest: 0, afterStall: 0 }
  // The server's own event loop, looked at every 10 ms: a stall past its burst (100 ms) bunches
  // requests sent on time, and its bucket then refuses them. Counted, to tell such 429s apart.
  let tick = performance.now()
  let stallEnded = Number.NEGATIVE_INFINITY
  const watch = setInterval(() => {
    const now = performance.now()
    if (now - tick > 10 + (1_000 * burst) / perSecond) {
      stats.stalls++
      stats.longest = Math.max(stats.longest, now - tick)
      stallEnded = now
    }
    tick = now
  }, 10)
  const server = createServer((req, res) => {
    req.resume()
    const now = performance.now()
    stats.first ||= now
    stats.latest = now
    tokens = Math.min(burst, tokens + ((now - last) * perSecond) / 1_000)
    last = now
    if (tokens < 1) {
      stats.limited++
      // Requests handled in the same turn as the stall's end are not seen by the watch first.
      if (now - stallEnded < 50 || now - tick > (1_000 * burst) / perSecond) stats.afterStall++
      res.writeHead(429, { 'retry-after': '1' }).end()
      return
    }
    tokens -= 1
    const key = String(req.headers['idempotency-key'])
    const n = (requests.get(key) ?? 0) + 1
    requests.set(key, n)
    const index = Number(key.split('-').pop())
    if (!fixed && hopeless(index)) return void res.writeHead(500).end('down for this key')
    if (n === 1 && index % 10 === 3) return void res.writeHead(500).end('flaky')
    served.set(key, (served.get(key) ?? 0) + 1)
    setTimeout(() => res.writeHead(200).end(key), 5)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    served,
    stats,
    fix: () => {
      fixed = true
    },
    close: () => {
      clearInterval(watch)
      return new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

function worker(
  redisUrl: string,
  prefix: string,
  name: string,
  lease: number,
  onUnknownOutcome: UnknownOutcome,
): ChildProcess {
  const args = [
    ...[redisUrl, prefix, name, `${prefix}-bw-${name}`, perSecond, capacity, 16, lease],
    onUnknownOutcome,
  ]
  const c = spawn(process.execPath, ['--import', 'tsx', child, ...args.map(String)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  })
  // A SIGKILLed worker's stdin is closed: the 'stop' sent to every worker at the end fails there.
  c.stdin?.on('error', () => {})
  return c
}

/** Resolves once the worker says `ready`; its stdout is drained from then on, never closed. */
const ready = (c: ChildProcess) =>
  new Promise<void>((resolve, reject) => {
    const out = c.stdout as NonNullable<ChildProcess['stdout']>
    let seen = ''
    const onData = (chunk: Buffer) => {
      seen += String(chunk)
      if (!seen.includes('ready')) return
      out.off('data', onData)
      out.resume()
      resolve()
    }
    out.on('data', onData)
    c.once('exit', (code) => reject(new Error(`a worker exited before it was ready (${code})`)))
  })

interface CaseResult {
  readonly row: CountedRow
  readonly check: Check
}

type Upstream = Awaited<ReturnType<typeof startUpstream>>
type UnknownOutcome = 'resend' | 'dead'

/** The index of job `job-<index>`. */
const indexOfJob = (id: string) => Number(id.split('-').pop())

/** A dead job whose call was sent by the killed worker, its outcome unknown. */
const isUnknown = (job: JobInfo) => job.error?.startsWith(unknownOutcomeReason) === true

/** `breakwater queue ...` from source, as a user would run the built command. */
function cli(args: readonly string[]): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', main, 'queue', ...args], (error, stdout) => {
      const code = (error as { code?: unknown } | null)?.code
      resolve({ code: typeof code === 'number' ? code : error === null ? 0 : 1, stdout })
    })
  })
}

/**
 * The dead-letter list after the crash case: every hopeless job in it with its attempts in its
 * history, apart from those whose call the killed worker sent (outcome unknown, with
 * `onUnknownOutcome: 'dead'`); then, the upstream mended, one hopeless job retried from the
 * command line and completed by the fleet still running.
 */
async function deadLetterRoundTrip(
  producer: BreakwaterQueue,
  upstream: Upstream,
  cliArgs: readonly string[],
  isHopeless: (index: number) => boolean,
  hopeless: number,
): Promise<{ ok: boolean; detail: string; unknown: readonly JobInfo[] }> {
  const all = await producer.dead.list({ count: 1_000 })
  const unknown = all.filter(isUnknown)
  const dead = all.filter((job) => !isUnknown(job))
  // A hopeless job the killed worker was running is dead for that reason, not for its 500s.
  const hopelessUnknown = unknown.filter((job) => isHopeless(indexOfJob(job.id)))
  const started = (job: JobInfo) => job.history.filter((h) => h.event === 'started').length
  const withHistory = dead.filter(
    (job) => job.attemptsMade === attempts && started(job) >= attempts,
  )
  const first = dead[0]
  if (first === undefined) return { ok: hopeless === 0, detail: 'no dead job', unknown }
  upstream.fix()
  const retried = await cli(['retry', first.id, ...cliArgs])
  const info = await producer.wait(first.id, { timeout: 60_000 }).catch(() => undefined)
  const left = hopeless - hopelessUnknown.length
  const ok = dead.length === left && withHistory.length === left && info?.state === 'completed'
  const reached = unknown.filter((job) => upstream.requests.has(job.id)).length
  const served = unknown.filter((job) => upstream.served.has(job.id)).length
  const detail = `${dead.length} dead for good, ${withHistory.length} of them with their ${attempts} attempts in their history; ${unknown.length} dead with their outcome unknown (${hopelessUnknown.length} of them hopeless; ${reached} had reached the upstream, ${served} of them served, before their worker died); \`breakwater queue retry ${first.id}\` exited ${retried.code} and the job ${info?.state ?? 'did not finish'}`
  return { ok, detail, unknown }
}

/**
 * Queues `jobs` keyed POSTs, drains them with the fleet, optionally SIGKILLing one worker whose
 * calls on the wire are then resent or put in the dead-letter list, as `onUnknownOutcome` says.
 */
async function runCase(
  redisUrl: string,
  jobs: number,
  crash: boolean,
  onUnknownOutcome: UnknownOutcome = 'resend',
): Promise<CaseResult> {
  // In the crash case one key in a hundred fails for good, until the upstream is mended.
  const isHopeless = (index: number) => crash && index % 100 === 7
  const hopeless = Array.from({ length: jobs }, (_, i) => i).filter(isHopeless).length
  const upstream = await startUpstream(isHopeless)
  const prefix = `bwbench-queue-${process.pid}-${Date.now().toString(36)}`
  const name = crash ? `crash-${onUnknownOutcome}` : 'drain'
  const producer = createQueue({ name, prefix, redis: redisUrl, worker: false })
  const fleet: ChildProcess[] = []
  try {
    for (let i = 0; i < jobs; i++) {
      await producer.add({ method: 'POST', url: upstream.url, body: `${i}` }, { id: `job-${i}` })
    }
    // Jobs wait their turn in the bucket holding their lease: a long one when nothing is killed;
    // a shorter one in the crash case, so that the killed worker's jobs come back soon.
    const lease = crash ? 3_000 : 10_000
    for (let i = 0; i < processes; i++) {
      fleet.push(worker(redisUrl, prefix, name, lease, onUnknownOutcome))
    }
    await Promise.all(fleet.map(ready))
    const start = performance.now()
    const sentSoFar = () => [...upstream.requests.values()].reduce((a, b) => a + b, 0)
    // The drain is timed to the last job that can complete; the hopeless ones take longer.
    let drainedAt: { at: number; sent: number } | undefined
    let killed = !crash
    for (;;) {
      const counts = await producer.counts()
      // Jobs dead with their outcome unknown are as finished as the completed ones.
      const finished = counts.completed + (onUnknownOutcome === 'dead' ? counts.dead : 0)
      if (drainedAt === undefined && finished >= jobs - hopeless) {
        drainedAt = { at: performance.now(), sent: sentSoFar() }
      }
      if (counts.completed + counts.dead === jobs) break
      if (!killed && counts.completed >= jobs / 3) {
        killed = true
        fleet[0]?.kill('SIGKILL')
        fleet.push(worker(redisUrl, prefix, name, lease, onUnknownOutcome))
        await ready(fleet.at(-1) as ChildProcess)
      }
      if (performance.now() - start > 180_000) break
      await new Promise((r) => setTimeout(r, 50))
    }
    const ended = performance.now() - start
    // The first worker ready takes jobs while the others start: the drain is timed from the
    // first request the upstream saw if that came first, as `sent` counts it.
    const began = Math.min(start, upstream.stats.first || start)
    const drained = (drainedAt?.at ?? performance.now()) - began
    const counts = await producer.counts()
    const cliArgs = ['--redis', redisUrl, '--name', name, '--prefix', prefix]
    const letters = crash
      ? await deadLetterRoundTrip(producer, upstream, cliArgs, isHopeless, hopeless)
      : null
    const sent = drainedAt?.sent ?? sentSoFar()
    const best = (Math.max(0, sent - burst) / perSecond) * 1_000
    const duplicates = [...upstream.served.values()].filter((n) => n > 1).length
    const lost = jobs - counts.completed - counts.dead
    const unknown = letters?.unknown.length ?? 0
    // The unknown ones that would have completed: every key but the hopeless ones can.
    const curable = (letters?.unknown ?? []).filter((job) => !isHopeless(indexOfJob(job.id)))
    const row: CountedRow = {
      case: crash
        ? `${jobs} jobs, one worker SIGKILLed, onUnknownOutcome: ${onUnknownOutcome}`
        : `${jobs} jobs, ${perSecond}/s quota`,
      subject: 'breakwater/queue on Redis',
      role: 'subject',
      values: [
        drained,
        best,
        upstream.stats.limited,
        duplicates,
        lost,
        counts.dead - unknown,
        crash ? unknown : null,
      ],
    }
    // With a worker killed, the drain pays for its lease: only completeness is checked there.
    const ok =
      letters === null
        ? upstream.stats.limited === 0 && lost === 0 && best / drained >= 0.9
        : counts.completed === jobs - hopeless - curable.length &&
          lost === 0 &&
          letters.ok &&
          (onUnknownOutcome === 'resend' ? unknown === 0 : duplicates === 0) &&
          upstream.served.size ===
            jobs - hopeless + 1 - curable.filter((job) => !upstream.served.has(job.id)).length
    const share = ((100 * best) / drained).toFixed(1)
    const { stalls, longest, afterStall } = upstream.stats
    const load = loadavg()[0]?.toFixed(1)
    const detail = `${counts.completed} completed, ${counts.dead} dead, ${lost} lost, ${upstream.stats.limited} × 429 (${afterStall} right after a stall of the upstream's own event loop; it stalled ${stalls} times past ${(1_000 * burst) / perSecond} ms, the longest ${longest.toFixed(0)} ms; load average ${load}), ${duplicates} keys served twice, drained in ${drained.toFixed(0)} ms (quota's best ${best.toFixed(0)} ms: ${share} %)${letters === null ? '' : `; the hopeless jobs dead ${ended.toFixed(0)} ms in (the per-host breaker their 500s open puts them off 10 s at a time); ${letters.detail}`}`
    return { row, check: { name: `queue-drain: ${row.case}`, ok, detail } }
  } finally {
    for (const c of fleet) c.stdin?.end('stop\n')
    await Promise.all(
      fleet.map((c) =>
        c.exitCode === null && c.signalCode === null ? once(c, 'exit') : undefined,
      ),
    )
    await producer.dead.purge()
    await producer.close()
    await upstream.close()
  }
}

/**
 * Calls that can wait: keyed POSTs queued on Redis and drained by a fleet of worker processes
 * through one shared bucket, against a server enforcing the quota and failing a tenth of the
 * first attempts; and the same with one worker SIGKILLed a third of the way in and one key in a
 * hundred failing for good, whose jobs must end in the dead-letter list with their history, one
 * of them completing once retried from the command line.
 */
export const queueDrain: Scenario = {
  name: 'queue-drain',
  description: `queued POSTs drained by ${processes} worker processes on Redis under a strict ${perSecond}/s quota with 10 % failures, and through a SIGKILL with 1 % hopeless keys: drain time, 429s, duplicates, lost, the dead-letter list and a retry from the command line`,
  redis: true,
  async run(options) {
    const redisUrl = options.redisUrl
    if (redisUrl === undefined) throw new Error('queue-drain needs a Redis server')
    const drain = await runCase(redisUrl, options.quick ? 400 : 2_000, false)
    const crashJobs = options.quick ? 200 : 1_000
    const resend = await runCase(redisUrl, crashJobs, true, 'resend')
    const dead = await runCase(redisUrl, crashJobs, true, 'dead')
    return countedResult(queueDrain, {
      checks: [drain.check, resend.check, dead.check],
      counted: {
        columns: [
          { name: 'drain time', unit: 'ms' },
          { name: "quota's best", unit: 'ms' },
          { name: '429s', unit: 'count' },
          { name: 'keys served twice', unit: 'count' },
          { name: 'jobs lost', unit: 'count' },
          { name: 'dead', unit: 'count' },
          { name: 'dead, outcome unknown', unit: 'count' },
        ],
        rows: [drain.row, resend.row, dead.row],
        configs: {
          'breakwater/queue on Redis': `createQueue({ redis, concurrency: 16, lease: 10000 (3000 in the crash case), attempts: 5, fetch: { redis, retry: { maxAttempts: 3 }, rateLimit: { perSecond: ${perSecond}, capacity: ${capacity} } } }) in each of ${processes} processes; the crash case SIGKILLs one a third of the way in and starts another, once with onUnknownOutcome: 'resend' (its calls on the wire sent again with their key) and once with 'dead' (their jobs put in the dead-letter list, their outcome unknown)`,
          upstream: `a token bucket of ${burst} refilled at ${perSecond}/s answering 429; 500 on the first attempt of every tenth key; in the crash case 500 on every attempt of one key in a hundred, until it is mended and one of those jobs is retried with \`breakwater queue retry\`; 5 ms per answer`,
        },
      },
    })
  },
}
