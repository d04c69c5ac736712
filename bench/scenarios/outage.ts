import { setTimeout as sleep } from 'node:timers/promises'
import type { Bar, LineSeries } from '../../src/cli/charts.js'
import { type Client, plainClient, segmentOf } from '../peers/client.js'
import {
  type BreakerSettings,
  breakwaterRetry,
  cockatielClient,
  pRetryClient,
  type RetrySettings,
} from '../peers/retries.js'
import { startProgress } from '../progress.js'
import { type Check, type CountedRow, countedResult, type Scenario } from '../scenario.js'
import { type Answer, startUpstream } from '../upstream.js'

/** Calls offered per second by each subject, whatever happens to them: a steady load. */
const rate = 50
const settings: RetrySettings = { attempts: 4, baseDelay: 20, maxDelay: 200 }
const breaker: BreakerSettings = { threshold: 5, halfOpenAfter: 1_000 }
const binMs = 500

const subjects: readonly (() => Client)[] = [
  () => plainClient('no retry', 'undici fetch, one attempt, throws on ≥ 400'),
  () => breakwaterRetry('breakwater retry', settings, { budget: false, breaker: false }),
  () => breakwaterRetry('breakwater +budget', settings, { budget: true, breaker: false }),
  () => breakwaterRetry('breakwater +budget +breaker', settings, { budget: true, breaker }),
  () => pRetryClient(settings),
  () => cockatielClient(settings, breaker),
]

/** One offered call: when it started and how it ended. */
interface Sent {
  readonly index: number
  readonly start: number
  end: number
  ok: boolean
}

/**
 * An outage under a steady load: the upstream answers 503 to everything for a third of the
 * run. Retries multiply the load on the upstream just when it can least bear it; a budget or a
 * breaker holds them back, and a breaker must then notice the upstream is back.
 */
export const outage: Scenario = {
  name: 'outage',
  description: `503 for the middle third of the run under ${rate} calls/s per subject: load during it, time to recover`,
  async run(options) {
    const runMs = options.quick ? 6_000 : 30_000
    const window = { from: runMs / 3, to: (2 * runMs) / 3 }
    const upstream = await startUpstream({ latencyMs: 10, jitterMs: 10, log: true, seed: 3 })
    const clients = subjects.map((make) => make())
    const segments = clients.map(segmentOf)
    const prefix = (c: number) => `/${segments[c]}/v1/items/`
    const perSubject = Math.floor((runMs * rate) / 1_000)
    const progress = startProgress('outage', clients.length * perSubject)
    const sent: Sent[][] = clients.map(() => [])
    const pending: Promise<void>[] = []
    let downAt = 0
    let upAt = 0
    const settle = (call: Sent, ok: boolean) => {
      call.end = performance.now()
      call.ok = ok
      progress.tick()
    }
    try {
      const t0 = performance.now()
      const toggles = [
        sleep(window.from).then(() => {
          upstream.down = true
          downAt = performance.now()
        }),
        sleep(window.to).then(() => {
          upstream.down = false
          upAt = performance.now()
        }),
      ]
      for (let i = 0; i < perSubject; i++) {
        // Absolute times, so that slow calls never slow the offered load down.
        const wait = t0 + (i * 1_000) / rate - performance.now()
        if (wait > 0) await sleep(wait)
        clients.forEach((client, c) => {
          const call: Sent = { index: i, start: performance.now(), end: 0, ok: false }
          sent[c]?.push(call)
          const url = `${upstream.url}${prefix(c)}${i}`
          pending.push(
            client.get(url).then(
              () => settle(call, true),
              () => settle(call, false),
            ),
          )
        })
      }
      await Promise.all([...toggles, ...pending])
    } finally {
      progress.stop()
      await Promise.all(clients.map((c) => c.close()))
      await upstream.close()
    }

    const rows: CountedRow[] = []
    const bars: Bar[] = []
    const series: LineSeries[] = []
    const notOne: string[] = []
    clients.forEach((client, c) => {
      const calls = sent[c] ?? []
      const answers = upstream.log.filter((a) => a.segment === segments[c])
      // Requests are told apart by their call's index in the path, so that a late answer
      // (a slow event loop, a retry) still counts for the call that caused it.
      const requests = new Map<number, number>()
      for (const a of answers) {
        const index = Number(a.path.slice(prefix(c).length))
        requests.set(index, (requests.get(index) ?? 0) + 1)
      }
      const costOf = (calls: readonly Sent[]) =>
        calls.reduce((sum, call) => sum + (requests.get(call.index) ?? 0), 0)
      const offered = calls.filter((s) => s.start >= downAt && s.start < upAt)
      const load = costOf(offered) / offered.length
      // Calls over before the outage began met no failure: each must have cost one request.
      const early = calls.filter((s) => s.end < downAt)
      if (costOf(early) !== early.length)
        notOne.push(`${client.name} ${costOf(early)}/${early.length}`)
      const recovery = recoveredAfter(calls, upAt)
      const success = calls.filter((s) => s.ok).length / calls.length
      rows.push({
        case: '',
        subject: client.name,
        role: client.role,
        values: [load, recovery, success],
      })
      bars.push({ label: client.name, value: load })
      series.push({ name: client.name, points: perSecond(answers, upstream.log[0]?.at ?? 0) })
    })
    const floor = rows.find((r) => r.role === 'floor')?.values[0] ?? 0
    const checks: Check[] = [
      {
        name: 'the outage was one: every request answered in it got a 503',
        ok: upstream.log.every((a) => (a.at >= downAt && a.at < upAt) === (a.status === 503)),
        detail: `${((upAt - downAt) / 1_000).toFixed(2)} s down, ${upstream.log.length.toLocaleString('en-US')} requests logged; 503s only then`,
      },
      {
        name: 'one request per call before the outage',
        ok: notOne.length === 0,
        detail: notOne.length === 0 ? 'for every subject' : `not for ${notOne.join(', ')}`,
      },
      {
        name: 'the floor sent each call once',
        ok: floor === 1,
        detail: `no retry: ${floor.toFixed(3)} upstream requests per call offered during the outage`,
      },
    ]
    return countedResult(outage, {
      checks,
      counted: {
        columns: [
          { name: 'load in outage', unit: 'times' },
          { name: 'recovered after', unit: 'ms' },
          { name: 'success', unit: 'share' },
        ],
        rows,
        configs: {
          ...Object.fromEntries(clients.map((c) => [c.name, c.config])),
          load: `${rate} calls/s per subject for ${runMs / 1_000} s, all subjects at once; 503 from ${window.from / 1_000} s to ${window.to / 1_000} s`,
          figures:
            'load in outage: upstream requests caused by the calls offered while down, per call; recovered after: from the end of the outage to the end of the last call that failed',
        },
      },
      charts: [
        {
          file: 'outage-load.svg',
          kind: 'bar',
          chart: {
            title: 'Upstream requests per offered call during the outage',
            xTitle: 'subject',
            yTitle: 'upstream requests per call',
            bars,
          },
        },
        {
          file: 'outage-timeline.svg',
          kind: 'line',
          chart: {
            title: `Upstream requests per second, 503 from ${window.from / 1_000} s to ${window.to / 1_000} s`,
            xTitle: 'time (s)',
            yTitle: 'requests per second',
            series,
          },
        },
      ],
    })
  },
}

/**
 * ms from the outage's end to the end of the last call that failed after it: until then,
 * callers still saw failures (a breaker waiting to probe, retries running out).
 */
function recoveredAfter(calls: readonly Sent[], upAt: number): number {
  let last = upAt
  for (const call of calls) if (!call.ok && call.end > last) last = call.end
  return last - upAt
}

/** Requests per second in bins of `binMs`, from `t0` on. */
function perSecond(answers: readonly Answer[], t0: number): [number, number][] {
  const counts: number[] = []
  for (const a of answers) {
    const bin = Math.floor((a.at - t0) / binMs)
    counts[bin] = (counts[bin] ?? 0) + 1
  }
  return Array.from(counts, (n, bin) => [(bin * binMs) / 1_000, ((n ?? 0) * 1_000) / binMs])
}
