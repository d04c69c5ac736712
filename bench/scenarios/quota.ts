import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import Bottleneck from 'bottleneck'
import PQueue from 'p-queue'
import { Agent } from 'undici'
import { createFetch } from '../../src/index.js'
import { getStatus } from '../peers/client.js'
import {
  type Check,
  type CountedRow,
  countedResult,
  type Ratio,
  type Scenario,
} from '../scenario.js'

// The server's quota: 50 calls a second, a burst of 50 — and the budget every subject is given.
const perSecond = 50
const burst = 50

/** How one subject sends one call; resolves with the status the caller saw. */
type Send = (url: string) => Promise<number>

interface Subject {
  readonly name: string
  readonly role: 'subject' | 'peer'
  /** How it is configured, for the report: the comparison is fair or not in here. */
  readonly config: string
  /** Builds the limiter in front of a fresh connection pool; `close` releases both. */
  start(): { send: Send; close(): Promise<void> }
}

interface QuotaServer {
  readonly url: string
  /** Calls answered 429 since the last reset. */
  readonly rejected: number
  /** A full bucket and a clean count for the next run. */
  reset(): void
  close(): Promise<void>
}

interface Run {
  readonly seconds: number
  readonly ok: number
  readonly rejected: number
  readonly latenciesMs: readonly number[]
}

/** Every limiter configured to the same quota, the way its documentation suggests. */
const subjects: readonly Subject[] = [
  {
    name: 'breakwater',
    role: 'subject',
    config: `createFetch({ cache: false, rateLimit: { name: 'quota', perSecond: ${perSecond} } }): GCRA, burst ${burst} (one second's worth), waiting callers in arrival order; retries on`,
    start() {
      const fetch = createFetch({ cache: false, rateLimit: { name: 'quota', perSecond } })
      const send: Send = async (url) => {
        const res = await fetch(url)
        await res.arrayBuffer()
        return res.status
      }
      return { send, close: () => fetch.close() }
    },
  },
  {
    name: 'bottleneck reservoir',
    role: 'peer',
    config: `new Bottleneck({ reservoir: ${burst}, reservoirRefreshAmount: ${burst}, reservoirRefreshInterval: 1000 }); no retries`,
    start: () =>
      bottleneck({
        reservoir: burst,
        reservoirRefreshAmount: burst,
        reservoirRefreshInterval: 1_000,
      }),
  },
  {
    name: 'bottleneck minTime',
    role: 'peer',
    config: `new Bottleneck({ minTime: ${1_000 / perSecond} }): one call every ${1_000 / perSecond} ms, no burst; no retries`,
    start: () => bottleneck({ minTime: 1_000 / perSecond }),
  },
  {
    name: 'p-queue',
    role: 'peer',
    config: `new PQueue({ intervalCap: ${burst}, interval: 1000 }): fixed windows; no retries`,
    start: () => pQueue(false),
  },
  {
    name: 'p-queue strict',
    role: 'peer',
    config: `new PQueue({ intervalCap: ${burst}, interval: 1000, strict: true }): sliding window; no retries`,
    start: () => pQueue(true),
  },
]

function bottleneck(options: Bottleneck.ConstructorOptions) {
  const agent = new Agent()
  const limiter = new Bottleneck(options)
  return {
    send: (url: string) => limiter.schedule(() => getStatus(url, agent)),
    close: async () => {
      await limiter.disconnect()
      await agent.close()
    },
  }
}

function pQueue(strict: boolean) {
  const agent = new Agent()
  const queue = new PQueue({ intervalCap: burst, interval: 1_000, strict })
  return {
    send: (url: string) => queue.add(() => getStatus(url, agent)) as Promise<number>,
    close: () => agent.close(),
  }
}

/**
 * Under a strict quota: a local server that enforces 50 calls a second with a burst of 50
 * (a token bucket answering 429 once empty), and N distinct calls fired at once through each
 * limiter configured to that quota. What counts is the 429s the server answered and the pace
 * achieved against the best the quota allows: N calls in (N − burst) / 50 s.
 */
export const quota: Scenario = {
  name: 'quota',
  description: `N calls at once under a strict ${perSecond}/s quota (burst ${burst}): 429s and pace`,
  async run(options) {
    const calls = options.quick ? 100 : 200
    const server = await startQuotaServer()
    const best = (calls - burst) / perSecond
    const runs: [Subject, Run][] = []
    try {
      for (const subject of subjects) runs.push([subject, await runSubject(subject, server, calls)])
    } finally {
      await server.close()
    }
    const pace = calls / best
    const share = (run: Run) => run.ok / run.seconds / pace
    const rows: CountedRow[] = [
      {
        case: '',
        subject: "quota's best",
        role: 'ceiling',
        values: [calls, 0, best * 1_000, 1, null, null],
      },
      ...runs.map(([subject, run]) => ({
        case: '',
        subject: subject.name,
        role: subject.role,
        values: [
          run.ok,
          run.rejected,
          run.seconds * 1_000,
          share(run),
          quantile(run.latenciesMs, 0.5),
          quantile(run.latenciesMs, 0.99),
        ],
      })),
    ]
    const [bw, ...peers] = runs as [[Subject, Run], ...[Subject, Run][]]
    const bwRun = bw[1]
    // ≥ 95 % of the quota's pace is at most 1 / 0.95 ≈ 1.05 times its time per call.
    const slowdown = 1 / share(bwRun)
    const ratios: Ratio[] = [
      {
        name: "breakwater time per call / the quota's best",
        value: slowdown,
        goalBelow: 1.05,
        met: slowdown < 1.05,
      },
    ]
    const checks: Check[] = [
      {
        name: 'breakwater drew no 429',
        ok: bwRun.rejected === 0,
        detail: `${bwRun.rejected} × 429; ${bwRun.ok}/${calls} answered 200 in ${bwRun.seconds.toFixed(2)} s`,
      },
      {
        name: 'every subject sent every call',
        ok: runs.every(([, run]) => run.ok + run.rejected >= calls),
        detail: peers
          .map(([s, run]) => `${s.name}: ${run.ok} × 200, ${run.rejected} × 429`)
          .join('; '),
      },
    ]
    const configs = Object.fromEntries(subjects.map((s) => [s.name, s.config]))
    configs.upstream = `a token bucket of ${burst} calls refilled at ${perSecond}/s, plus one call of slack for network jitter, answering 429 with Retry-After once empty; every subject first warms its sockets with a burst, then, a second later, sends ${calls} distinct calls at once`
    return countedResult(quota, {
      ratios,
      checks,
      counted: {
        columns: [
          { name: 'answered 200', unit: 'count' },
          { name: '429s', unit: 'count' },
          { name: 'all answered in', unit: 'ms' },
          { name: "share of the quota's pace", unit: 'share' },
          { name: 'p50 latency', unit: 'ms' },
          { name: 'p99 latency', unit: 'ms' },
        ],
        rows,
        configs,
      },
    })
  },
}

/**
 * One subject's run. A burst of warm-up calls comes first, on the same instance: the sockets
 * that the burst needs are then open, as in a service that has been running, so that a burst
 * does not land late (new connections) behind calls paced after it. After a second of quiet,
 * every limiter and the server are full again, and the measured calls go out at once.
 */
async function runSubject(subject: Subject, server: QuotaServer, calls: number): Promise<Run> {
  const { send, close } = subject.start()
  const latenciesMs: number[] = []
  let ok = 0
  let started = 0
  try {
    await Promise.all(Array.from({ length: burst }, (_, i) => send(`${server.url}/warm-up/${i}`)))
    await sleep(1_100)
    server.reset()
    started = performance.now()
    await Promise.all(
      Array.from({ length: calls }, async (_, i) => {
        const at = performance.now()
        if ((await send(`${server.url}/v1/messages/${i}`)) === 200) ok++
        latenciesMs.push(performance.now() - at)
      }),
    )
  } finally {
    await close()
  }
  const seconds = (performance.now() - started) / 1_000
  return { seconds, ok, rejected: server.rejected, latenciesMs }
}

/** The latency below which a share `q` of the calls finished, in ms. */
function quantile(latenciesMs: readonly number[], q: number): number | null {
  const sorted = [...latenciesMs].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? null
}

/**
 * The strict upstream: a token bucket of `burst` refilled at `perSecond`, plus one call of
 * slack for the network's jitter (a call sent on time may land just behind one sent earlier).
 */
async function startQuotaServer(): Promise<QuotaServer> {
  let tokens = burst + 1
  let last = performance.now()
  let rejected = 0
  const server = createServer((req, res) => {
    req.resume()
    const now = performance.now()
    tokens = Math.min(burst + 1, tokens + ((now - last) * perSecond) / 1_000)
    last = now
    if (tokens < 1) {
      rejected++
      res.writeHead(429, { 'retry-after': String(Math.ceil((1 - tokens) / perSecond)) })
      res.end('rate limited')
      return
    }
    tokens -= 1
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end('{"ok":true}')
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    get rejected() {
      return rejected
    },
    reset() {
      tokens = burst + 1
      last = performance.now()
      rejected = 0
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()))
        server.closeAllConnections()
      }),
  }
}
