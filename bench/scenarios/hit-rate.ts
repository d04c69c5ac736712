import { createCache } from 'cache-manager'
import { Keyv } from 'keyv'
import { Agent, cacheStores, interceptors } from 'undici'
import type { LineSeries } from '../../src/cli/charts.js'
import { createFetch } from '../../src/index.js'
import { compulsoryHitRatio, optimalHitRatio } from '../../src/replay/optimal.js'
import { createRandom, createZipf } from '../../src/replay/random.js'
import { breakwaterClient, type Client, getText } from '../peers/client.js'
import { KeyvLru } from '../peers/keyv-lru.js'
import { startProgress } from '../progress.js'
import {
  type ChartSpec,
  type Check,
  type CountedRow,
  countedResult,
  type Scenario,
} from '../scenario.js'
import { type BenchUpstream, startUpstream } from '../upstream.js'

const keys = 10_000
const exponents = [0.8, 1.0, 1.2]
const allSizes = [100, 1_000, 5_000]
// Longer than any run: the hit ratios here are about the cache's size, not about age.
const ttl = 600_000
// The smallest body the upstream makes: what is measured here is calls, not bytes.
const bodyBytes = 256

/** A cache of `size` entries in front of the upstream, plus whatever it can say of itself. */
interface SizedClient extends Client {
  /** Entries the cache holds now, when it can tell. */
  held?(): number
  /** Calls it answered from the cache, by its own count. */
  hits?(): number
}

const subjects: readonly ((size: number) => SizedClient)[] = [
  (size) => {
    const fetch = createFetch({ cache: { ttl, maxEntries: size } })
    const config = `createFetch({ cache: { ttl: ${ttl}, maxEntries: SIZE } }), defaults otherwise (LRU)`
    return { ...breakwaterClient('breakwater', fetch, config), hits: () => fetch.stats().cacheHits }
  },
  (size) => {
    const agent = new Agent()
    const store = new cacheStores.MemoryCacheStore({ maxCount: size })
    const dispatcher = agent.compose(interceptors.cache({ store }))
    let bodyLength = 1
    return {
      name: 'undici cache',
      role: 'peer',
      config:
        `Agent.compose(interceptors.cache({ store: new MemoryCacheStore({ maxCount: SIZE }) })), ` +
        `freshness from the upstream's max-age=${ttl / 1_000}`,
      get: async (url) => {
        bodyLength = Buffer.byteLength(await getText(url, dispatcher))
      },
      close: () => agent.close(),
      // The store tells the bytes of the bodies it holds (a getter its types omit), not its
      // entries; the bodies here differ by a few digits of their id at most.
      held: () => Math.round((store as unknown as { size: number }).size / bodyLength),
    }
  },
  (size) => {
    const agent = new Agent()
    const cache = createCache({ stores: [new Keyv({ store: new KeyvLru(size) })], ttl })
    return {
      name: 'cache-manager',
      role: 'peer',
      config:
        `createCache({ stores: [new Keyv({ store: lru-cache { max: SIZE } })], ttl: ${ttl} }), ` +
        'wrap(url, fetch-and-read)',
      get: async (url) => {
        await cache.wrap(url, () => getText(url, agent))
      },
      close: async () => {
        await cache.disconnect()
        await agent.close()
      },
    }
  },
]

/**
 * How many calls a cache of a given size saves on skewed traffic: Zipf keys over 10k items,
 * sent one after another through real HTTP, every subject meeting the very same sequence.
 */
export const hitRate: Scenario = {
  name: 'hit-rate',
  description: `hit ratio vs cache size on Zipf traffic over ${keys.toLocaleString('en-US')} keys, same sequence and TTL for all`,
  async run(options) {
    const requests = options.quick ? 3_000 : 15_000
    // A quick trace holds fewer distinct keys than the largest size: that case would say nothing.
    const sizes = options.quick ? allSizes.slice(0, 2) : allSizes
    const upstream = await startUpstream({ bodyBytes, cacheControl: `max-age=${ttl / 1_000}` })
    const progress = startProgress(
      'hit-rate',
      exponents.length * sizes.length * subjects.length * requests,
    )
    const rows: CountedRow[] = []
    const configs: Record<string, string> = {}
    const charts: ChartSpec[] = []
    const held: [size: number, entries: number][] = []
    const hitCounts: boolean[] = []
    const lruAlike: string[] = []
    const bounded: string[] = []
    try {
      for (const s of exponents) {
        const draw = createZipf(keys, s, createRandom(7))
        const trace = Array.from({ length: requests }, () => draw())
        // Sent one after another, request i goes at about i ms; the TTL outlasts the trace.
        const timed = trace.map((key, i) => ({ key: String(key), t: i }))
        const series: LineSeries[] = []
        const optimal: [number, number][] = []
        const measured = new Map<string, [number, number][]>()
        for (const size of sizes) {
          const name = `s=${s.toFixed(1)} · ${size.toLocaleString('en-US')} entries`
          const best = optimalHitRatio(timed, size, ttl)
          optimal.push([size, best])
          const misses = new Map<string, number>()
          for (const make of subjects) {
            const client = make(size)
            configs[client.name] = client.config
            const got = await replay(client, trace, upstream, progress.tick)
            misses.set(client.name, got.upstreamCalls)
            if (got.held !== undefined && s === 1) held.push([size, got.held])
            if (got.hits !== undefined) hitCounts.push(got.hits === requests - got.upstreamCalls)
            const ratio = 1 - got.upstreamCalls / requests
            // A store that overflows its size (undici's, see its config) is not bounded by it.
            const overflowed = got.held !== undefined && got.held > size
            if (!overflowed && ratio > best) bounded.push(`${client.name} at ${name}`)
            rows.push({
              case: name,
              subject: client.name,
              role: client.role,
              values: [ratio, got.upstreamCalls, ratio / best],
            })
            measured.set(client.name, [...(measured.get(client.name) ?? []), [size, ratio]])
          }
          rows.push({
            case: name,
            subject: 'optimal',
            role: 'ceiling',
            values: [best, Math.round((1 - best) * requests), 1],
          })
          if (misses.get('breakwater') !== misses.get('cache-manager')) lruAlike.push(name)
        }
        const unbounded = compulsoryHitRatio(timed, ttl)
        if (optimal.some(([, best]) => best > unbounded)) bounded.push(`optimal at s=${s}`)
        rows.push({
          case: `s=${s.toFixed(1)} · unbounded`,
          subject: 'any cache',
          role: 'ceiling',
          values: [unbounded, Math.round((1 - unbounded) * requests), null],
        })
        for (const [subject, points] of measured) {
          series.push({ name: subject, points, kind: 'measured' })
        }
        series.push({ name: 'optimal (Belady)', points: optimal, kind: 'bound' })
        charts.push({
          file: `hit-rate-s${s.toFixed(1)}.svg`,
          kind: 'line',
          chart: {
            title: `Hit ratio vs cache size, Zipf s=${s.toFixed(1)} over ${keys.toLocaleString('en-US')} keys`,
            xTitle: 'cache size (entries)',
            yTitle: 'hit ratio',
            yFormat: '.0%',
            logX: true,
            series,
          },
        })
      }
    } finally {
      progress.stop()
      await upstream.close()
    }
    // MemoryCacheStore evicts half of each URL's entries: none of a URL that has one, so it
    // never shrinks on this traffic (nodejs/undici#5737; the installed undici predates the fix).
    const over = held.filter(([size, entries]) => entries > size).map(([size]) => size)
    configs['undici cache'] +=
      `; held at the end of s=1.0 (store bytes / body size): ` +
      held.map(([size, entries]) => `≈${entries.toLocaleString('en-US')} for ${size}`).join(', ') +
      (over.length > 0
        ? `; past maxCount at ${over.join(', ')}, where its rows are an unbounded cache’s (nodejs/undici#5737)`
        : '')
    const checks: Check[] = [
      {
        name: 'no bounded cache beats optimal, optimal never beats the unbounded cache',
        ok: bounded.length === 0,
        detail: bounded.length === 0 ? 'held in every case' : `broken by ${bounded.join(', ')}`,
      },
      {
        name: 'breakwater and cache-manager evict alike',
        ok: lruAlike.length === 0,
        detail:
          lruAlike.length === 0
            ? 'same upstream calls in every case: both LRU of the same size on one sequence'
            : `different upstream calls at ${lruAlike.join(', ')}`,
      },
      {
        name: 'breakwater counted its hits as the upstream saw them',
        ok: hitCounts.every(Boolean),
        detail: `stats().cacheHits = requests − upstream calls in ${hitCounts.filter(Boolean).length} of ${hitCounts.length} runs`,
      },
    ]
    return countedResult(hitRate, {
      checks,
      counted: {
        columns: [
          { name: 'hit ratio', unit: 'share' },
          { name: 'upstream calls', unit: 'count' },
          { name: 'of optimal', unit: 'times' },
        ],
        rows,
        configs: {
          ...configs,
          optimal:
            'Belady at the same size and TTL (src/replay/optimal.ts); any cache: no size limit',
          traffic: `${requests.toLocaleString('en-US')} GETs per s, one at a time, seed 7; the upstream's smallest bodies (~0.4 KiB)`,
        },
      },
      charts,
    })
  },
}

/** Sends the trace through `client` one request at a time; counts what reached the upstream. */
async function replay(
  client: SizedClient,
  trace: readonly number[],
  upstream: BenchUpstream,
  tick: (n?: number) => void,
): Promise<{ upstreamCalls: number; held: number | undefined; hits: number | undefined }> {
  // A segment per client keeps the counts apart: every subject has the upstream to itself.
  const segment = `${client.name.replaceAll(' ', '-')}-${upstream.requests}`
  const base = `${upstream.url}/${segment}/items/`
  try {
    for (let i = 0; i < trace.length; i++) {
      await client.get(`${base}${trace[i]}`)
      if (i % 256 === 255) tick(256)
    }
    tick(trace.length % 256)
    return {
      upstreamCalls: upstream.requestsUnder(segment),
      held: client.held?.(),
      hits: client.hits?.(),
    }
  } finally {
    await client.close()
  }
}
