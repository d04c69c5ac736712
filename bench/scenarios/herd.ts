import { setTimeout as sleep } from 'node:timers/promises'
import { createCache } from 'cache-manager'
import { Keyv } from 'keyv'
import { LRUCache } from 'lru-cache'
import { Agent, interceptors } from 'undici'
import type { Bar } from '../../src/cli/charts.js'
import { createFetch, wrap } from '../../src/index.js'
import { breakwaterClient, type Client, getText, plainClient, segmentOf } from '../peers/client.js'
import { KeyvLru } from '../peers/keyv-lru.js'
import { percentile } from '../peers/latency.js'
import { startProgress } from '../progress.js'
import { type Check, type CountedRow, countedResult, type Scenario } from '../scenario.js'
import { type BenchUpstream, startUpstream } from '../upstream.js'

const callers = 1_000
// Whole seconds, as max-age speaks; above 1 s because undici ages an entry from the upstream's
// Date header, which drops the milliseconds: max-age=1 could leave it fresh for no time at all.
const ttl = 2_000
const max = 1_000
// Long enough that every caller arrives while the first upstream call is still out.
const latencyMs = 100

const subjects: readonly (() => Client)[] = [
  () =>
    breakwaterClient(
      'breakwater fetch',
      createFetch({ cache: { ttl, maxEntries: max } }),
      `createFetch({ cache: { ttl: ${ttl}, maxEntries: ${max} } }), coalescing on by default`,
    ),
  () => {
    const agent = new Agent()
    const getItem = wrap((url: string) => getText(url, agent), {
      cache: { ttl, maxEntries: max },
      name: 'getItem',
    })
    return {
      name: 'breakwater wrap',
      role: 'subject',
      config: `wrap(fetch-and-read, { cache: { ttl: ${ttl}, maxEntries: ${max} } }), coalescing on by default`,
      get: async (url) => {
        await getItem(url)
      },
      close: async () => {
        await getItem.close()
        await agent.close()
      },
    }
  },
  () => {
    const agent = new Agent()
    // The last interceptor listed runs first: the cache answers, its misses are deduplicated.
    const dispatcher = agent.compose(interceptors.deduplicate(), interceptors.cache())
    return {
      name: 'undici dedupe+cache',
      role: 'peer',
      config: `Agent.compose(interceptors.deduplicate(), interceptors.cache()), freshness from max-age=${ttl / 1_000}`,
      get: async (url) => {
        await getText(url, dispatcher)
      },
      close: () => agent.close(),
    }
  },
  () => {
    const agent = new Agent()
    const cache = createCache({ stores: [new Keyv({ store: new KeyvLru(max) })], ttl })
    return {
      name: 'cache-manager wrap',
      role: 'peer',
      config: `createCache({ stores: [new Keyv({ store: lru-cache { max: ${max} } })], ttl: ${ttl} }), wrap(url, fetch-and-read)`,
      get: async (url) => {
        await cache.wrap(url, () => getText(url, agent))
      },
      close: async () => {
        await cache.disconnect()
        await agent.close()
      },
    }
  },
  () => {
    const agent = new Agent()
    const cache = new LRUCache<string, string>({
      max,
      ttl,
      fetchMethod: (url) => getText(url, agent),
    })
    return {
      name: 'lru-cache fetch',
      role: 'peer',
      config: `new LRUCache({ max: ${max}, ttl: ${ttl}, fetchMethod: fetch-and-read }), cache.fetch(url)`,
      get: async (url) => {
        await cache.fetch(url)
      },
      close: () => agent.close(),
    }
  },
  () => plainClient('no cache', 'undici fetch on an Agent, nothing in front'),
]

/**
 * A thundering herd: 1,000 callers ask for one key at once, first while it is not cached, then
 * once its entry has gone stale. A cache that coalesces sends one upstream call; one that does
 * not sends as many as there are callers.
 */
export const herd: Scenario = {
  name: 'herd',
  description: `${callers.toLocaleString('en-US')} concurrent callers on one cold key, then on one stale key; the floor is 1 upstream call`,
  async run() {
    const upstream = await startUpstream({ latencyMs, cacheControl: `max-age=${ttl / 1_000}` })
    const progress = startProgress('herd', subjects.length * 2 * callers)
    const rows: CountedRow[] = []
    const configs: Record<string, string> = {}
    const checks: Check[] = []
    const bars: Bar[] = []
    const clients = subjects.map((make) => make())
    const targets = clients.map((client) => {
      configs[client.name] = client.config
      const segment = segmentOf(client)
      return { client, segment, url: `${upstream.url}/${segment}/v1/items/42` }
    })
    try {
      const cold: Herd[] = []
      const cachedAfter: boolean[] = []
      for (const { client, segment, url } of targets) {
        cold.push(await stampede(client, url, upstream, segment, progress.tick))
        // A caller shortly after the herd must be served from the cache: only then does the
        // second herd meet a stale entry rather than an empty cache.
        await sleep(50)
        const before = upstream.requestsUnder(segment)
        await client.get(url)
        cachedAfter.push(upstream.requestsUnder(segment) === before)
      }
      // One wait for all: every entry was stored before it began, so all are stale after it.
      await sleep(ttl + 200)
      const stale: Herd[] = []
      for (const { client, segment, url } of targets) {
        stale.push(await stampede(client, url, upstream, segment, progress.tick))
      }
      targets.forEach(({ client }, i) => {
        const runs = [
          ['cold key', cold[i] as Herd],
          ['stale key', stale[i] as Herd],
        ] as const
        for (const [phase, run] of runs) {
          rows.push({
            case: phase,
            subject: client.name,
            role: client.role,
            values: [run.upstreamCalls, run.p50, run.p99, run.failed],
          })
          bars.push({ label: client.name, group: phase, value: run.upstreamCalls / callers })
        }
        const failed = runs.reduce((sum, [, run]) => sum + run.failed, 0)
        const expectsCache = client.role !== 'floor'
        checks.push({
          name: `${client.name}: every caller answered${expectsCache ? ', entry cached after the herd' : ''}`,
          ok: failed === 0 && (!expectsCache || cachedAfter[i] === true),
          detail: `${failed} failed calls of ${2 * callers}; a call 50 ms after the first herd ${cachedAfter[i] ? 'was a hit' : 'reached the upstream'}`,
        })
      })
    } finally {
      progress.stop()
      await Promise.all(clients.map((c) => c.close()))
      await upstream.close()
    }
    return countedResult(herd, {
      checks,
      counted: {
        columns: [
          { name: 'upstream calls', unit: 'count' },
          { name: 'p50 wait', unit: 'ms' },
          { name: 'p99 wait', unit: 'ms' },
          { name: 'failed', unit: 'count' },
        ],
        rows,
        configs: {
          ...configs,
          upstream: `answers after ${latencyMs} ms with cache-control: max-age=${ttl / 1_000}; the stale herds come over ${ttl + 200} ms after the last entry was stored`,
        },
      },
      charts: [
        {
          file: 'herd-upstream-per-request.svg',
          kind: 'bar',
          chart: {
            title: `Upstream calls per request, ${callers.toLocaleString('en-US')} concurrent callers on one key`,
            xTitle: 'subject',
            yTitle: 'upstream calls per request',
            bars,
          },
        },
      ],
    })
  },
}

/** What one herd cost the upstream, and how long its callers waited. */
interface Herd {
  readonly upstreamCalls: number
  readonly p50: number
  readonly p99: number
  readonly failed: number
}

/** Fires every caller at once and waits for all; counts the upstream calls they caused. */
async function stampede(
  client: Client,
  url: string,
  upstream: BenchUpstream,
  segment: string,
  tick: () => void,
): Promise<Herd> {
  const before = upstream.requestsUnder(segment)
  const waits: number[] = []
  let failed = 0
  await Promise.all(
    Array.from({ length: callers }, async () => {
      const start = performance.now()
      try {
        await client.get(url)
        waits.push(performance.now() - start)
      } catch {
        failed++
      } finally {
        tick()
      }
    }),
  )
  return {
    upstreamCalls: upstream.requestsUnder(segment) - before,
    p50: percentile(waits, 50),
    p99: percentile(waits, 99),
    failed,
  }
}
