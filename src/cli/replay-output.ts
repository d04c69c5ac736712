/** What `breakwater replay` shows and writes: the table, replay.json and the charts. */
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { formatDuration } from '../replay/duration.js'
import type { ReplaySummary } from '../replay/replay.js'
import type { TraceFormat } from '../replay/trace.js'
import { barChartSvg, type LineSeries, lineChartSvg } from './charts.js'
import { count, formatTable, money, percent, span } from './table.js'

/** Everything a replay found, as written to replay.json. */
export interface ReplayReport {
  readonly trace: {
    readonly file: string
    readonly format: TraceFormat
    readonly skippedLines: number
    readonly firstSkipped: string | null
  }
  readonly settings: {
    readonly maxEntries: readonly number[]
    readonly ttlsMs: readonly number[]
    readonly costPerCall: number | null
    readonly methods: readonly string[]
    readonly maxBodyBytes: number
  }
  readonly summary: ReplaySummary
  /** ms spent reading and parsing the trace. */
  readonly readMs: number
  /** ms spent replaying it, every size × TTL. */
  readonly replayMs: number
}

const legend = `LRU: breakwater's cache with cache.admission 'lru' · optimal: Belady's rule at that size
TinyLFU: the same cache with cache.admission 'tinylfu' (the default), same rule on the same keys
bound: a cache without a size limit, the most any cache could serve · all TTLs run from each fetch`

/** The header lines and one row per size × TTL. */
export function formatReplay(report: ReplayReport): string {
  const { trace, summary, settings } = report
  const cost = settings.costPerCall !== null
  const header = [
    'entries',
    'ttl',
    'LRU',
    'optimal',
    'bound',
    'LRU bytes',
    'bound bytes',
    'calls saved',
    'optimal saved',
  ]
  if (cost) header.push('cost saved')
  const rows = summary.rows.map((row) => {
    const cells = [
      count(row.maxEntries),
      formatDuration(row.ttlMs),
      percent(row.lru.hitRatio),
      percent(row.optimal.hitRatio),
      percent(row.compulsory.hitRatio),
      percent(row.lru.byteHitRatio),
      percent(row.compulsory.byteHitRatio),
      count(row.lru.hits),
      count(row.optimal.hits),
    ]
    if (row.moneySaved !== null) cells.push(money(row.moneySaved))
    return cells
  })
  const lines = [
    `${trace.file} (${trace.format}): ${count(summary.requests)} requests over ${span(summary.spanMs)}, ` +
      `${count(summary.keys)} keys, ${count(summary.cacheable)} cacheable`,
  ]
  if (trace.skippedLines > 0) {
    lines.push(
      `skipped ${count(trace.skippedLines)} malformed lines (first: ${trace.firstSkipped})`,
    )
  }
  const numeric = new Set(header.map((_, i) => i).filter((i) => i !== 1))
  lines.push('', formatTable(header, rows, numeric), '', admissionTable(report), '', legend)
  if (cost) lines.push(`cost saved: LRU's calls saved × ${settings.costPerCall} a call`)
  const seconds = (ms: number) => `${(ms / 1_000).toFixed(1)} s`
  lines.push(`read in ${seconds(report.readMs)}, replayed in ${seconds(report.replayMs)}`)
  return lines.join('\n')
}

/** TinyLFU beside LRU, row by row: what `cache.admission: 'tinylfu'` saves on this trace. */
function admissionTable(report: ReplayReport): string {
  const header = ['entries', 'ttl', 'TinyLFU', 'TinyLFU saved', 'vs LRU', 'gap closed']
  const rows = report.summary.rows.map((row) => {
    const gap = row.optimal.hits - row.lru.hits
    return [
      count(row.maxEntries),
      formatDuration(row.ttlMs),
      percent(row.tinylfu.hitRatio),
      count(row.tinylfu.hits),
      `${row.tinylfu.hits >= row.lru.hits ? '+' : '−'}${count(Math.abs(row.tinylfu.hits - row.lru.hits))}`,
      gap > 0 ? percent((row.tinylfu.hits - row.lru.hits) / gap) : '–',
    ]
  })
  return formatTable(header, rows, new Set([0, 2, 3, 4, 5]))
}

/**
 * Writes replay.json and the charts into `dir`; resolves the paths written. Without vega it
 * rejects with a `ChartsUnavailableError` once replay.json is written: the command checks for
 * vega before it reads the trace, so that comes to pass only if vega went in between.
 */
export async function writeReplay(report: ReplayReport, dir: string): Promise<string[]> {
  await mkdir(dir, { recursive: true })
  const written = [join(dir, 'replay.json')]
  await writeFile(written[0] as string, `${JSON.stringify(report, null, 2)}\n`)
  const charts = await Promise.all([hitRatioChart(report), callsSavedChart(report)])
  for (const [name, svg] of charts) {
    const path = join(dir, name)
    await writeFile(path, svg)
    written.push(path)
  }
  return written
}

const kinds = [
  ['lru', 'LRU (breakwater)'],
  ['tinylfu', 'TinyLFU (breakwater)'],
  ['optimal', 'optimal (Belady)'],
  ['compulsory', 'bound (no size limit)'],
] as const

async function hitRatioChart(report: ReplayReport): Promise<[string, string]> {
  const { rows } = report.summary
  const series: LineSeries[] = report.settings.ttlsMs.flatMap((ttlMs) =>
    kinds.map(([field, kind]) => ({
      name: `${kind}, ttl ${formatDuration(ttlMs)}`,
      group: `ttl ${formatDuration(ttlMs)}`,
      kind,
      points: rows
        .filter((row) => row.ttlMs === ttlMs)
        .map((row) => [row.maxEntries, row[field].hitRatio] as const),
    })),
  )
  const svg = await lineChartSvg({
    title: 'Hit ratio vs cache size',
    xTitle: 'cache size (entries)',
    yTitle: 'hit ratio',
    yFormat: '.0%',
    series,
  })
  return ['hit-ratio.svg', svg]
}

async function callsSavedChart(report: ReplayReport): Promise<[string, string]> {
  const svg = await barChartSvg({
    title: "Upstream calls saved by breakwater's cache",
    xTitle: 'cache size (entries)',
    yTitle: 'calls saved',
    bars: report.summary.rows.map((row) => ({
      label: count(row.maxEntries),
      value: row.lru.hits,
      group: `ttl ${formatDuration(row.ttlMs)}`,
    })),
  })
  return ['calls-saved.svg', svg]
}
