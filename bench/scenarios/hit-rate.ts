import type { LineSeries } from '../../src/cli/charts.js'
import { compulsoryHitRatio, optimalHitRatio } from '../../src/replay/optimal.js'
import { createRandom, createZipf } from '../../src/replay/random.js'
import {
  createUpstream,
  type SizedSubject,
  sizedSubjects as subjects,
  ttl,
  type Upstream,
} from '../peers/sized-caches.js'
import { startProgress } from '../progress.js'
import {
  type ChartSpec,
  type Check,
  type Counted,
  type CountedRow,
  countedResult,
  type Scenario,
} from '../scenario.js'

const keys = 10_000
const exponents = [0.8, 1.0, 1.2]
const allSizes = [100, 1_000, 5_000]
// Below this many points of difference, two policies on one 200k-request trace are alike.
const noise = 0.005
const origin = 'http://upstream.test'

/**
 * One trace: its keys, and each request's popularity rank (1 is the most asked for), which the
 * generator knows and no cache can: the key itself, but past a shift.
 */
interface BenchTrace {
  readonly name: string
  readonly s: number
  readonly trace: number[]
  readonly rankAt: (i: number) => number
}

/** The key sequences: Zipf at each skew, plus a cold sweep and a shift of popularity at s=1.0. */
function tracesOf(requests: number): BenchTrace[] {
  const zipf = (s: number, seed: number, n: number) => {
    const draw = createZipf(keys, s, createRandom(seed))
    return Array.from({ length: n }, () => draw())
  }
  const traces: BenchTrace[] = exponents.map((s) => {
    const trace = zipf(s, 7, requests)
    return { name: `s=${s.toFixed(1)}`, s, trace, rankAt: (i) => trace[i] as number }
  })
  const base = zipf(1, 7, requests)
  const half = requests / 2
  // A one-off sweep of 10% of the requests over keys never asked for before or after.
  const sweep = Array.from({ length: requests / 10 }, (_, i) => keys + 1 + i)
  const scanned = [...base.slice(0, half), ...sweep, ...base.slice(half + sweep.length)]
  // The sweep's keys are never asked for again: they rank below every Zipf key.
  traces.push({ name: 's=1.0 scan', s: 1, trace: scanned, rankAt: (i) => scanned[i] as number })
  // Halfway, every rank moves to another key: yesterday's popular set goes cold at once.
  const moved = base.slice(half).map((k) => ((k - 1 + keys / 2) % keys) + 1)
  traces.push({
    name: 's=1.0 shift',
    s: 1,
    trace: [...base.slice(0, half), ...moved],
    rankAt: (i) => base[i] as number,
  })
  return traces
}

/**
 * How many calls a cache of a given size saves on skewed traffic: Zipf keys over 10k items,
 * one request after another, every subject meeting the very same sequence; plus a scan and a
 * shift of the popular set, where frequency-aware admission could lose to plain LRU.
 */
export const hitRate: Scenario = {
  name: 'hit-rate',
  description: `hit ratio vs cache size on Zipf traffic over ${keys.toLocaleString('en-US')} keys (plus a scan and a shift), same sequence and TTL for all`,
  async run(options) {
    const requests = options.quick ? 20_000 : 200_000
    const sizes = options.quick ? allSizes.slice(0, 2) : allSizes
    const traces = tracesOf(requests)
    const progress = startProgress(
      'hit-rate',
      traces.length * sizes.length * subjects.length * requests,
    )
    const found: Found = {
      requests,
      rows: [],
      configs: {},
      broken: { bounded: [], lruAlike: [], hits: [] },
      below: [],
      behindPeer: [],
    }
    const charts: ChartSpec[] = []
    try {
      for (const { name: traceName, trace, rankAt } of traces) {
        const timed = trace.map((key, i) => ({ key: String(key), t: i }))
        const measured = new Map<string, [number, number][]>()
        const optimal: [number, number][] = []
        for (const size of sizes) {
          const name = `${traceName} · ${size.toLocaleString('en-US')} entries`
          const best = optimalHitRatio(timed, size, ttl)
          optimal.push([size, best])
          const ratios = await measureCase(name, trace, size, best, progress.tick, found)
          pushBestOnline(found, name, bestOnlineHitRatio(trace, rankAt, size), best, ratios)
          for (const [subject, ratio] of ratios) {
            measured.set(subject, [...(measured.get(subject) ?? []), [size, ratio]])
          }
        }
        const unbounded = compulsoryHitRatio(timed, ttl)
        if (optimal.some(([, best]) => best > unbounded)) {
          found.broken.bounded.push(`optimal at ${traceName}`)
        }
        found.rows.push({
          case: `${traceName} · unbounded`,
          subject: 'any cache',
          role: 'ceiling',
          values: [unbounded, Math.round((1 - unbounded) * requests), null, null],
        })
        charts.push(chartOf(traceName, measured, optimal))
      }
    } finally {
      progress.stop()
    }
    return countedResult(hitRate, {
      checks: checksOf(found),
      counted: countedOf(found, requests),
      charts,
    })
  },
}

/**
 * The best any cache that does not know the future can do on independent requests (the A0
 * policy): hold the `size` keys of highest true popularity, each from its first request on.
 * No admission policy can beat it in expectation; it shows how much of the gap to Belady's
 * optimal, which knows every next request, is open to any policy at all.
 */
function bestOnlineHitRatio(
  trace: readonly number[],
  rankAt: (i: number) => number,
  size: number,
): number {
  const seen = new Set<number>()
  let hits = 0
  for (let i = 0; i < trace.length; i++) {
    const key = trace[i] as number
    if (rankAt(i) <= size && seen.has(key)) hits++
    seen.add(key)
  }
  return hits / trace.length
}

/** The A0 row of a case, with its share of the LRU→optimal gap like the subjects' rows. */
function pushBestOnline(
  found: Found,
  name: string,
  ratio: number,
  best: number,
  ratios: ReadonlyMap<string, number>,
): void {
  const requests = found.requests
  const lru = ratios.get('breakwater (lru)') as number
  const closed = best - lru > 0.05 ? (ratio - lru) / (best - lru) : null
  const values = [ratio, Math.round((1 - ratio) * requests), ratio / best, closed]
  found.rows.push({ case: name, subject: 'best online (A0)', role: 'ceiling', values })
}

/** The table: every row, its columns, and how each subject was set up. */
function countedOf(found: Found, requests: number): Counted {
  return {
    columns: [
      { name: 'hit ratio', unit: 'share' },
      { name: 'upstream calls', unit: 'count' },
      { name: 'of optimal', unit: 'times' },
      { name: 'LRU→optimal gap closed', unit: 'share' },
    ],
    rows: found.rows,
    configs: {
      ...found.configs,
      optimal: 'Belady at the same size and TTL (src/replay/optimal.ts); any cache: no size limit',
      'best online (A0)':
        'holds the SIZE keys of highest true popularity (known to the generator, not to a cache): the best a policy that does not know the future can do on these traces',
      traffic:
        `${requests.toLocaleString('en-US')} GETs per case, one at a time, seed 7, to an in-process upstream ` +
        '(256-byte bodies); scan: a sweep of 10% cold keys from the middle; shift: every rank moves to another key halfway',
      'gap closed':
        '(subject − LRU) / (optimal − LRU), where LRU is more than 5 points below the optimal',
    },
  }
}

/** What the cases found so far: the rows, and where a check broke. */
interface Found {
  readonly requests: number
  readonly rows: CountedRow[]
  readonly configs: Record<string, string>
  readonly broken: { bounded: string[]; lruAlike: string[]; hits: string[] }
  readonly below: string[]
  readonly behindPeer: string[]
}

/** Every subject on one trace at one size: their rows, and each one's hit ratio by name. */
async function measureCase(
  name: string,
  trace: readonly number[],
  size: number,
  best: number,
  tick: (n?: number) => void,
  found: Found,
): Promise<Map<string, number>> {
  const requests = trace.length
  const ratios = new Map<string, number>()
  for (const make of subjects) {
    const upstream = createUpstream()
    const subject = make(size, upstream)
    found.configs[subject.name] = subject.config
    const calls = await replay(subject, trace, upstream, tick)
    const ratio = 1 - calls.upstream / requests
    ratios.set(subject.name, ratio)
    if (ratio > best) found.broken.bounded.push(`${subject.name} at ${name}`)
    if (calls.hits !== undefined && calls.hits !== requests - calls.upstream) {
      found.broken.hits.push(`${subject.name} at ${name}`)
    }
  }
  const lru = ratios.get('breakwater (lru)') as number
  for (const [subject, ratio] of ratios) {
    const closed = best - lru > 0.05 ? (ratio - lru) / (best - lru) : null
    const values = [ratio, Math.round((1 - ratio) * requests), ratio / best, closed]
    const role = subject === 'cache-manager' ? 'peer' : 'subject'
    found.rows.push({ case: name, subject, role, values })
  }
  const values = [best, Math.round((1 - best) * requests), 1, null]
  found.rows.push({ case: name, subject: 'optimal', role: 'ceiling', values })
  const policy = ratios.get('breakwater') as number
  if (lru !== ratios.get('cache-manager')) found.broken.lruAlike.push(name)
  if (policy < lru - noise) found.below.push(name)
  if (policy <= (ratios.get('cache-manager') as number)) found.behindPeer.push(name)
  return ratios
}

function checksOf({ broken, below, behindPeer }: Found): Check[] {
  const held = (list: string[], ok: string, bad: string): Check['detail'] =>
    list.length === 0 ? ok : `${bad} ${list.join(', ')}`
  return [
    {
      name: 'no bounded cache beats optimal, optimal never beats the unbounded cache',
      ok: broken.bounded.length === 0,
      detail: held(broken.bounded, 'held in every case', 'broken by'),
    },
    {
      name: 'breakwater (lru) and cache-manager evict alike',
      ok: broken.lruAlike.length === 0,
      detail: held(
        broken.lruAlike,
        'same upstream calls in every case: both LRU of the same size',
        'different at',
      ),
    },
    {
      name: 'breakwater counted its hits as the upstream saw them',
      ok: broken.hits.length === 0,
      detail: held(
        broken.hits,
        'stats().cacheHits = requests − upstream calls in every run',
        'not at',
      ),
    },
    {
      name: `breakwater (tinylfu) is never below LRU by more than ${noise * 100} points`,
      ok: below.length === 0,
      detail: held(below, 'held in every case, scan and shift included', 'below at'),
    },
    {
      name: 'breakwater (tinylfu) is ahead of cache-manager',
      ok: behindPeer.length === 0,
      detail: held(behindPeer, 'ahead in every case', 'not ahead (equal or behind) at'),
    },
  ]
}

function chartOf(
  traceName: string,
  measured: Map<string, [number, number][]>,
  optimal: [number, number][],
): ChartSpec {
  const series: LineSeries[] = [...measured].map(([name, points]) => ({
    name,
    points,
    kind: 'measured',
  }))
  series.push({ name: 'optimal (Belady)', points: optimal, kind: 'bound' })
  return {
    file: `hit-rate-${traceName.replace('s=', 's').replaceAll(' ', '-')}.svg`,
    kind: 'line',
    chart: {
      title: `Hit ratio vs cache size, Zipf ${traceName} over ${keys.toLocaleString('en-US')} keys`,
      xTitle: 'cache size (entries)',
      yTitle: 'hit ratio',
      yFormat: '.0%',
      logX: true,
      series,
    },
  }
}

/** Sends the trace through `subject` one request at a time; counts what reached the upstream. */
async function replay(
  subject: SizedSubject,
  trace: readonly number[],
  upstream: Upstream,
  tick: (n?: number) => void,
): Promise<{ upstream: number; hits: number | undefined }> {
  try {
    for (let i = 0; i < trace.length; i++) {
      await subject.get(`${origin}/items/${trace[i]}`)
      if (i % 1_024 === 1_023) tick(1_024)
    }
    tick(trace.length % 1_024)
    return { upstream: upstream.calls(), hits: subject.hits?.() }
  } finally {
    await subject.close()
  }
}
