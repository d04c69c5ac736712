import { type Client, plainClient, segmentOf } from '../peers/client.js'
import { percentile } from '../peers/latency.js'
import {
  breakwaterRetry,
  cockatielClient,
  pRetryClient,
  type RetrySettings,
  undiciRetryClient,
} from '../peers/retries.js'
import { startProgress } from '../progress.js'
import { type Check, type CountedRow, countedResult, type Scenario } from '../scenario.js'
import { startUpstream } from '../upstream.js'

const errorRate = 0.2
const resetRate = 0.05
const settings: RetrySettings = { attempts: 4, baseDelay: 20, maxDelay: 200 }
// Calls in flight at once per subject: a busy service, not a stampede.
const concurrency = 20
const warmup = 100
const latencyMs = 5
const jitterMs = 5

const subjects: readonly (() => Client)[] = [
  () => plainClient('naive fetch', 'undici fetch, one attempt, throws on ≥ 400'),
  () => breakwaterRetry('breakwater', settings, { budget: true, breaker: false }),
  () => breakwaterRetry('breakwater, no budget', settings, { budget: false, breaker: false }),
  () => pRetryClient(settings),
  () => cockatielClient(settings, false),
  () => undiciRetryClient(settings),
]

/**
 * A flaky API: a fifth of requests answered 503 and one in twenty connections reset. How many
 * calls succeed, what they cost the upstream and how long they take, for every retry library
 * given the same four attempts and the same delays.
 */
export const flaky: Scenario = {
  name: 'flaky',
  description: `${errorRate * 100}% 503s and ${resetRate * 100}% connection resets; ${settings.attempts} attempts for every subject`,
  async run(options) {
    const calls = options.quick ? 400 : 2_000
    // One seed per run: every subject meets the same share of failures.
    const upstream = await startUpstream({ errorRate, resetRate, latencyMs, jitterMs, seed: 5 })
    const progress = startProgress('flaky', subjects.length * calls)
    const rows: CountedRow[] = []
    const configs: Record<string, string> = {}
    const measured: { name: string; perCall: number; p50: number; p99: number }[] = []
    const checks: Check[] = []
    try {
      for (const make of subjects) {
        const client = make()
        configs[client.name] = client.config
        const segment = segmentOf(client)
        let result: Drive
        try {
          // Unmeasured calls first, so that no subject pays for the JIT and the sockets alone.
          await drive(client, `${upstream.url}/warm-${segment}/v1/items/`, warmup, () => {})
          result = await drive(client, `${upstream.url}/${segment}/v1/items/`, calls, progress.tick)
        } finally {
          await client.close()
        }
        const { latencies, succeeded } = result
        const perCall = upstream.requestsUnder(segment) / calls
        const p50 = percentile(latencies, 50)
        const p99 = percentile(latencies, 99)
        measured.push({ name: client.name, perCall, p50, p99 })
        rows.push({
          case: '',
          subject: client.name,
          role: client.role,
          values: [succeeded / calls, perCall, p50, p99],
        })
        checks.push(
          client.role === 'floor'
            ? floorCheck(succeeded / calls, perCall)
            : {
                name: `${client.name} stayed within ${settings.attempts} attempts`,
                ok: perCall >= 1 && perCall <= settings.attempts,
                detail: `${perCall.toFixed(3)} upstream requests per call`,
              },
        )
      }
    } finally {
      progress.stop()
      await upstream.close()
    }
    return countedResult(flaky, {
      checks,
      counted: {
        columns: [
          { name: 'success', unit: 'share' },
          { name: 'upstream/call', unit: 'times' },
          { name: 'p50', unit: 'ms' },
          { name: 'p99', unit: 'ms' },
        ],
        rows,
        configs: {
          ...configs,
          upstream: `${latencyMs}–${latencyMs + jitterMs} ms per answer; ${errorRate * 100}% 503 without retry-after, ${resetRate * 100}% sockets destroyed; seed 5`,
          traffic: `${calls.toLocaleString('en-US')} distinct GETs per subject, ${concurrency} in flight`,
        },
      },
      charts: [
        {
          file: 'flaky-upstream-per-call.svg',
          kind: 'bar',
          chart: {
            title: 'Upstream requests per call, flaky upstream',
            xTitle: 'subject',
            yTitle: 'upstream requests per call',
            bars: measured.map((m) => ({ label: m.name, value: m.perCall })),
          },
        },
        {
          file: 'flaky-latency.svg',
          kind: 'bar',
          chart: {
            title: 'Call latency percentiles, flaky upstream',
            xTitle: 'subject',
            yTitle: 'latency (ms)',
            bars: measured.flatMap((m) => [
              { label: m.name, group: 'p50', value: m.p50 },
              { label: m.name, group: 'p99', value: m.p99 },
            ]),
          },
        },
      ],
    })
  },
}

/**
 * The floor sends each call once, so it sees the upstream's profile bare: a success share near
 * 1 − errorRate − resetRate proves the failures are really there.
 */
function floorCheck(success: number, perCall: number): Check {
  const expected = 1 - errorRate - resetRate
  return {
    name: 'the upstream fails as profiled',
    ok: perCall === 1 && Math.abs(success - expected) < 0.06,
    detail: `one attempt per call succeeded ${(success * 100).toFixed(1)}% of the time (profile: ${(expected * 100).toFixed(0)}%)`,
  }
}

interface Drive {
  readonly latencies: readonly number[]
  readonly succeeded: number
}

/** Sends `calls` distinct GETs under `base`, `concurrency` at a time; times every one. */
async function drive(
  client: Client,
  base: string,
  calls: number,
  tick: () => void,
): Promise<Drive> {
  const latencies: number[] = []
  let succeeded = 0
  let next = 0
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < calls) {
        const url = `${base}${next++}`
        const start = performance.now()
        try {
          await client.get(url)
          succeeded++
        } catch {
          // A call that failed is counted by what did not succeed.
        }
        latencies.push(performance.now() - start)
        tick()
      }
    }),
  )
  return { latencies, succeeded }
}
