import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { runFleet } from '../fleet.js'
import { type Check, type CountedRow, countedResult, type Scenario } from '../scenario.js'
import { startUpstream } from '../upstream.js'

const processes = 4
const callers = 50
// The server's quota; every subject is given its rate. breakwater's burst stays below the
// server's, leaving room for calls that a busy process starts a little late.
const perSecond = 100
const burst = 20
const capacity = 5

const child = fileURLToPath(new URL('./shared-quota-child.ts', import.meta.url))

interface Setup {
  readonly name: string
  readonly slug: string
  readonly role: 'subject' | 'peer'
  readonly config: string
}

const setups: readonly Setup[] = [
  {
    name: 'breakwater on Redis',
    slug: 'breakwater',
    role: 'subject',
    config: `createFetch({ redis: { url, processes: ${processes} }, cache: false, coalesce: false, retry: false, rateLimit: { name: 'quota', perSecond: ${perSecond}, capacity: ${capacity} } }) in each process: one GCRA script per decision on Redis time`,
  },
  {
    name: 'bottleneck clustering',
    slug: 'bottleneck',
    role: 'peer',
    config: `new Bottleneck({ id, datastore: 'ioredis', Redis (ioredis 6), minTime: ${1_000 / perSecond} }) in each process: minTime is enforced cluster-wide; no retries`,
  },
  {
    name: 'rate-limiter-flexible',
    slug: 'rlf',
    role: 'peer',
    config: `new RateLimiterQueue(new RateLimiterRedis({ storeClient (node-redis), useRedisPackage: true, points: ${perSecond}, duration: 1 })) in each process: a shared fixed window, callers queued per process; no retries`,
  },
]

interface ChildResult {
  readonly failed: number
}

/**
 * A fleet under one strict quota: ${processes} processes × ${callers} callers calling for a few
 * seconds through one limiter on the shared Redis, against a local server that enforces the
 * quota with a token bucket of its own (answering 429 once empty). What counts is the 429s and
 * the share of the quota used: calls answered 200 over what the server would have admitted
 * between the first and the last call (its burst plus its rate over that time).
 */
export const sharedQuota: Scenario = {
  name: 'shared-quota',
  description: `${processes} processes × ${callers} callers under one ${perSecond}/s quota (burst ${burst}) on Redis: 429s and share of the quota used`,
  redis: true,
  async run(options) {
    const redisUrl = options.redisUrl
    if (redisUrl === undefined) throw new Error('shared-quota needs a Redis server')
    const ms = options.quick ? 1_500 : 3_000
    const upstream = await startUpstream({ quota: { perSecond, burst }, log: true })
    const namespace = `bwbench-quota:${process.pid}:${Date.now().toString(36)}`
    const rows: CountedRow[] = []
    const checks: Check[] = []
    try {
      for (const setup of setups) {
        // The server's bucket refills between subjects: each starts from a full one.
        await sleep((burst / perSecond) * 1_000 + 300)
        const results = await fleet(
          setup.slug,
          redisUrl,
          `${namespace}:${setup.slug}`,
          `${upstream.url}/${setup.slug}`,
          ms,
        )
        const answers = upstream.log.filter((a) => a.segment === setup.slug)
        const ok = answers.filter((a) => a.status === 200).length
        const limited = answers.filter((a) => a.status === 429).length
        const times = answers.map((a) => a.at)
        const span = answers.length < 2 ? 0 : Math.max(...times) - Math.min(...times)
        const quota = burst + (perSecond * span) / 1_000
        const failed = results.reduce((n, r) => n + r.failed, 0)
        rows.push({
          case: `${(ms / 1_000).toFixed(1)} s of calls`,
          subject: setup.name,
          role: setup.role,
          values: [ok, limited, span, ok / quota, failed],
        })
        if (setup.role === 'subject') {
          checks.push({
            name: `${setup.name}: no 429, at least 90 % of the quota used`,
            ok: limited === 0 && ok / quota >= 0.9 && failed === 0,
            detail: `${ok} × 200, ${limited} × 429, ${failed} failed in ${span.toFixed(0)} ms: ${((100 * ok) / quota).toFixed(1)} % of ${quota.toFixed(0)}`,
          })
        }
      }
    } finally {
      await upstream.close()
    }
    return countedResult(sharedQuota, {
      checks,
      counted: {
        columns: [
          { name: 'answered 200', unit: 'count' },
          { name: '429s', unit: 'count' },
          { name: 'first to last call', unit: 'ms' },
          { name: 'share of the quota used', unit: 'share' },
          { name: 'failed', unit: 'count' },
        ],
        rows,
        configs: {
          ...Object.fromEntries(setups.map((s) => [s.name, s.config])),
          upstream: `a token bucket of ${burst} calls refilled at ${perSecond}/s, answering 429 with Retry-After once empty`,
          fleet: `${processes} child processes started first and let go together, ${callers} callers each, calling in a loop for the run's time`,
        },
      },
    })
  },
}

/** Runs the processes of one subject: started, let go together; resolves with what each saw. */
function fleet(
  slug: string,
  redisUrl: string,
  namespace: string,
  base: string,
  ms: number,
): Promise<ChildResult[]> {
  const args = [slug, redisUrl, namespace, base, ...[perSecond, capacity, callers, ms].map(String)]
  return runFleet<ChildResult>('shared-quota', child, args, processes)
}
