import { fileURLToPath } from 'node:url'
import { createClient } from '@redis/client'
import { runFleet } from '../fleet.js'
import { percentile } from '../peers/latency.js'
import { type Check, type CountedRow, countedResult, type Scenario } from '../scenario.js'
import { type BenchUpstream, startUpstream } from '../upstream.js'

const processes = 4
const keys = 20
const callersPerKey = 10
// Long enough that every process asks while the first upstream call of a key is still out.
const latencyMs = 100

const child = fileURLToPath(new URL('./cross-process-child.ts', import.meta.url))

interface ChildResult {
  readonly failed: number
  readonly waits: number[]
}

/**
 * How one subject is run in each process: on the shared Redis, or in memory alone; warmed up
 * as a process of a fleet that has been up a while, or fresh (one call of its own).
 */
interface Setup {
  readonly name: string
  readonly role: 'subject' | 'peer'
  readonly redis: boolean
  readonly warmUp: 'fleet' | 'fresh'
  readonly subject: 'breakwater' | 'floor'
  readonly config: string
}

const floorName = 'hand-written coalescing (floor)'

const lease = `createFetch({ redis, cache: { ttl: 60_000 }, retry: false }) in each process: shared cache, one lease per key across processes, waiters woken by the holder's PUBLISH`

const setups: readonly Setup[] = [
  {
    name: 'breakwater + Redis lease',
    role: 'subject',
    redis: true,
    warmUp: 'fleet',
    subject: 'breakwater',
    config: lease,
  },
  {
    name: 'breakwater + Redis lease, fresh processes',
    role: 'peer',
    redis: true,
    warmUp: 'fresh',
    subject: 'breakwater',
    config: `${lease}; each process warmed up with one call only, so its first burst runs cold (V8 has not compiled breakwater's code yet)`,
  },
  {
    name: 'breakwater in memory',
    role: 'peer',
    redis: false,
    warmUp: 'fleet',
    subject: 'breakwater',
    config: `createFetch({ cache: { ttl: 60_000 }, retry: false }) in each process: its own memory cache, coalescing within the process only`,
  },
  {
    name: floorName,
    role: 'peer',
    redis: false,
    warmUp: 'fleet',
    subject: 'floor',
    config: `no library in each process: a Map of one fetch() per URL in flight, read whole, and a new Response per caller; what 200 calls at once cost in a process on this machine, with nothing shared`,
  },
]

/**
 * A fleet asking the same cold keys at once: 4 processes, each with 10 concurrent callers on
 * each of 20 keys never asked before. Within a process, coalescing makes one call per key
 * anyway; across processes only the Redis lease does, so the upstream sees one call per key
 * rather than one per key and process.
 */
export const crossProcess: Scenario = {
  name: 'cross-process',
  description: `${processes} processes × ${keys} cold keys × ${callersPerKey} callers at once: upstream calls with the Redis lease vs memory alone`,
  redis: true,
  async run(options) {
    const redisUrl = options.redisUrl
    if (redisUrl === undefined) throw new Error('cross-process needs a Redis server')
    const rounds = options.quick ? 1 : 3
    const upstream = await startUpstream({ latencyMs })
    const namespace = `bwbench:${process.pid}:${Date.now().toString(36)}`
    const rows: CountedRow[] = []
    const checks: Check[] = []
    const configs: Record<string, string> = {}
    let subjectWaits: number[] = []
    let floorWaits: number[] = []
    try {
      for (const setup of setups) {
        configs[setup.name] = setup.config
        let upstreamCalls = 0
        let failed = 0
        const waits: number[] = []
        for (let round = 0; round < rounds; round++) {
          const segment = `${setup.redis ? 'redis' : setup.subject === 'floor' ? 'floor' : 'memory'}-${setup.warmUp}-${round}`
          const results = await fleet(
            setup,
            setup.redis ? redisUrl : '',
            namespace,
            upstream,
            segment,
          )
          upstreamCalls += upstream.requestsUnder(segment)
          for (const r of results) {
            failed += r.failed
            waits.push(...r.waits)
          }
        }
        const calls = processes * keys * callersPerKey * rounds
        rows.push({
          case: `${rounds} × ${keys} cold keys`,
          subject: setup.name,
          role: setup.role,
          values: [
            upstreamCalls,
            upstreamCalls / (keys * rounds),
            percentile(waits, 50),
            percentile(waits, 99),
            failed,
          ],
        })
        checks.push({
          name: `${setup.name}: every caller answered`,
          ok: failed === 0,
          detail: `${failed} failed calls of ${calls}`,
        })
        if (setup.redis) {
          checks.push({
            name: `${setup.name}: at most one upstream call per key`,
            ok: upstreamCalls <= keys * rounds,
            detail: `${upstreamCalls} upstream calls for ${keys * rounds} keys`,
          })
          if (setup.role === 'subject') subjectWaits = waits
        }
        if (setup.subject === 'floor') floorWaits = waits
      }
      checks.push(...waitChecks(setups[0]?.name ?? '', subjectWaits, floorWaits))
      rows.push({
        case: `${rounds} × ${keys} cold keys`,
        subject: 'one call per key',
        role: 'floor',
        values: [keys * rounds, 1, latencyMs, latencyMs, 0],
      })
    } finally {
      await upstream.close()
      await forget(redisUrl, namespace)
    }
    return countedResult(crossProcess, {
      checks,
      counted: {
        columns: [
          { name: 'upstream calls', unit: 'count' },
          { name: 'per key', unit: 'times' },
          { name: 'p50 wait', unit: 'ms' },
          { name: 'p99 wait', unit: 'ms' },
          { name: 'failed', unit: 'count' },
        ],
        rows,
        configs: {
          ...configs,
          upstream: `answers after ${latencyMs} ms; every round asks keys no process asked before`,
          fleet: `${processes} child processes, started and warmed up first (as processes up a while: 3 bursts of the same shape on keys of their own, two instances in each process asking them at once so that both sides of a lease run, and the Redis connection up; fresh: one call), then let go together; each fires ${keys * callersPerKey} calls at once. A wait is one call, from its fetch() to its body's last byte`,
        },
      },
    })
  },
}

/**
 * The goal of waking waiters through Redis rather than by polling alone: a caller waits little
 * more than the upstream call it shares. The floor's figures say what of the wait is the cost
 * of the calls themselves on this machine, which no lease can take off.
 */
function waitChecks(name: string, waits: readonly number[], floor: readonly number[]): Check[] {
  const goal = (q: number, factor: number): Check => {
    const [wait, least] = [percentile(waits, q), percentile(floor, q)]
    return {
      name: `${name}: p${q} wait at most ${factor}x the upstream's latency`,
      ok: wait <= factor * latencyMs,
      detail: `p${q} ${wait.toFixed(0)} ms for an upstream answering in ${latencyMs} ms; the hand-written floor in the same run: ${least.toFixed(0)} ms`,
    }
  }
  return [goal(50, 1.3), goal(99, 2)]
}

/** Runs one round: the processes start, then all ask at once; resolves with what each saw. */
function fleet(
  setup: Setup,
  redisUrl: string,
  namespace: string,
  upstream: BenchUpstream,
  segment: string,
): Promise<ChildResult[]> {
  const args = [
    redisUrl,
    namespace,
    `${upstream.url}/${segment}`,
    String(keys),
    String(callersPerKey),
    setup.warmUp,
    setup.subject,
  ]
  return runFleet<ChildResult>('cross-process', child, args, processes)
}

/** Deletes what the scenario left under its namespace (cache entries live for a minute). */
async function forget(url: string, namespace: string): Promise<void> {
  const client = createClient({ url, socket: { reconnectStrategy: false } })
  client.on('error', () => {})
  try {
    await client.connect()
    for await (const found of client.scanIterator({ MATCH: `${namespace}:*`, COUNT: 500 })) {
      if (found.length > 0) await client.del(found)
    }
  } catch {
    // Leftovers expire by themselves; a cleanup that failed is no failure of the figures.
  } finally {
    if (client.isOpen) client.destroy()
  }
}
