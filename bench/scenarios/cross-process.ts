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
  readonly config: string
}

const lease = `createFetch({ redis, cache: { ttl: 60_000 }, retry: false }) in each process: shared cache, one lease per key across processes, waiters woken by the holder's PUBLISH`

const setups: readonly Setup[] = [
  {
    name: 'breakwater + Redis lease',
    role: 'subject',
    redis: true,
    warmUp: 'fleet',
    config: lease,
  },
  {
    name: 'breakwater + Redis lease, fresh processes',
    role: 'peer',
    redis: true,
    warmUp: 'fresh',
    config: `${lease}; each process warmed up with one call only, so its first burst runs cold (V8 has not compiled breakwater's code yet)`,
  },
  {
    name: 'breakwater in memory',
    role: 'peer',
    redis: false,
    warmUp: 'fleet',
    config: `createFetch({ cache: { ttl: 60_000 }, retry: false }) in each process: its own memory cache, coalescing within the process only`,
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
    try {
      for (const setup of setups) {
        configs[setup.name] = setup.config
        let upstreamCalls = 0
        let failed = 0
        const waits: number[] = []
        for (let round = 0; round < rounds; round++) {
          const segment = `${setup.redis ? 'redis' : 'memory'}-${setup.warmUp}-${round}`
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
          if (setup.role === 'subject') checks.push(...waitChecks(setup.name, waits))
        }
      }
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
 * more than the upstream call it shares.
 */
function waitChecks(name: string, waits: readonly number[]): Check[] {
  const [p50, p99] = [percentile(waits, 50), percentile(waits, 99)]
  return [
    {
      name: `${name}: p50 wait at most 1.3x the upstream's latency`,
      ok: p50 <= 1.3 * latencyMs,
      detail: `p50 ${p50.toFixed(0)} ms for an upstream answering in ${latencyMs} ms`,
    },
    {
      name: `${name}: p99 wait at most 2x the upstream's latency`,
      ok: p99 <= 2 * latencyMs,
      detail: `p99 ${p99.toFixed(0)} ms for an upstream answering in ${latencyMs} ms`,
    },
  ]
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
