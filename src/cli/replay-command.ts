/**
 * `breakwater replay`: reads a trace, replays it for every size × TTL, prints the table and,
 * with --out, writes replay.json and the charts.
 */
import { createReadStream } from 'node:fs'
import { access, constants, stat } from 'node:fs/promises'
import { createInterface } from 'node:readline'
import { parseArgs } from 'node:util'
import { defaultReplayPolicy } from '../replay/lru-replay.js'
import { type ReplaySummary, replayGrid } from '../replay/replay.js'
import {
  type ReadTraceOptions,
  type ReadTraceResult,
  readTrace,
  TraceError,
  type TraceFormat,
} from '../replay/trace.js'
import { parseFlags, parseNumber, parseSizes, parseTtls, UsageError } from './args.js'
import { ChartsUnavailableError, loadVega } from './charts.js'
import { type Progress, progressFor } from './progress.js'
import { formatReplay, type ReplayReport, writeReplay } from './replay-output.js'

export const replayUsage = `usage: breakwater replay TRACE [--max-entries 100,1000,...] [--ttl 60s,5m,...] [--out DIR]
                        [--cost-per-call N] [--lenient] [--format jsonl|combined] [--progress]

Replays a request trace through breakwater's cache on a simulated clock, for every cache size
and TTL: hit ratio, byte hit ratio and upstream calls saved, under LRU and under TinyLFU
admission (cache.admission), beside Belady's optimal policy at that size and the bound of a
cache without a size limit.

TRACE is JSON Lines, one {"t": ms, "method", "url", "key"?, "bytes"?, "status"?} a line, or an
nginx/Apache access log in the combined (or common) format; the first line tells which.

  --max-entries LIST  cache sizes in entries (default 100,1000,10000; 10k reads too)
  --ttl LIST          freshness after each fetch: 250ms, 60s, 5m, 1h (default 60s,5m)
  --out DIR           write replay.json, hit-ratio.svg and calls-saved.svg there
  --cost-per-call N   money one upstream call costs: shows what the cache saves
  --lenient           count and skip malformed lines instead of stopping at the first
  --format FORMAT     read TRACE as jsonl or combined, whatever its first line
  --progress          show progress on stderr even when it is not a terminal (it is shown on one)
  --help              this text`

const replayFlags = {
  'max-entries': { type: 'string', default: '100,1000,10000' },
  ttl: { type: 'string', default: '60s,5m' },
  out: { type: 'string' },
  'cost-per-call': { type: 'string' },
  lenient: { type: 'boolean', default: false },
  format: { type: 'string' },
  progress: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h' },
} as const

/**
 * Runs the command; resolves its exit code. `loadCharts` is there for a test of an install
 * without vega; the command line never passes it.
 */
export async function replayCommand(
  args: readonly string[],
  loadCharts: () => Promise<unknown> = loadVega,
): Promise<number> {
  const { values, positionals } = parseFlags(
    () =>
      parseArgs({
        args: [...args],
        options: replayFlags,
        allowPositionals: true,
        strict: true,
      }),
    1,
  )
  if (values.help) {
    console.log(replayUsage)
    return 0
  }
  const file = positionals[0]
  if (file === undefined) {
    throw new UsageError('which trace? give its file: breakwater replay TRACE')
  }
  const maxEntries = parseSizes(values['max-entries'])
  const ttls = parseTtls(values.ttl)
  const costPerCall =
    values['cost-per-call'] === undefined
      ? undefined
      : parseNumber('--cost-per-call', values['cost-per-call'], 0)
  const format = formatOf(values.format)

  const size = await checkReadable(file)
  // Before the trace is read: a missing chart package should cost no wait to find out.
  if (values.out !== undefined && !(await chartsLoad(loadCharts))) return 1
  const progress = progressFor(values.progress)
  const started = performance.now()
  const read = await readTraceFile(file, size, { format, lenient: values.lenient }, progress)
  if (typeof read === 'number') return read
  const readMs = performance.now() - started
  const summary = await replayGrid(read.trace, {
    maxEntries,
    ttls,
    costPerCall,
    onProgress: progress && ((done, total, row) => progress.replaying(done, total, row)),
  })
  progress?.end()
  const replayMs = performance.now() - started - readMs

  const settings = { maxEntries, ttls, costPerCall }
  const report = reportOf(file, read, settings, summary, { readMs, replayMs })
  console.log(formatReplay(report))
  if (values.out !== undefined) {
    const written = await writeReplay(report, values.out)
    console.log(`\nwrote ${written.join(', ')}`)
  }
  return 0
}

/** What replay.json holds: the trace read, the settings, the figures and the time taken. */
function reportOf(
  file: string,
  read: ReadTraceResult,
  {
    maxEntries,
    ttls,
    costPerCall,
  }: { maxEntries: number[]; ttls: number[]; costPerCall: number | undefined },
  summary: ReplaySummary,
  times: { readMs: number; replayMs: number },
): ReplayReport {
  return {
    trace: {
      file,
      format: read.format,
      skippedLines: read.skipped,
      firstSkipped: read.firstSkipped ?? null,
    },
    settings: {
      maxEntries,
      ttlsMs: ttls,
      costPerCall: costPerCall ?? null,
      methods: [...defaultReplayPolicy.methods],
      maxBodyBytes: defaultReplayPolicy.maxBodyBytes,
    },
    summary,
    ...times,
  }
}

function formatOf(text: string | undefined): TraceFormat | undefined {
  if (text === undefined || text === 'jsonl' || text === 'combined') return text
  throw new UsageError(`--format: ${JSON.stringify(text)} is not jsonl or combined`)
}

/**
 * Reads the trace, with progress by bytes read; resolves exit code 2 when a line is malformed,
 * after saying which and why.
 */
async function readTraceFile(
  file: string,
  size: number,
  options: ReadTraceOptions,
  progress: Progress | undefined,
): Promise<ReadTraceResult | number> {
  const input = createReadStream(file)
  if (progress !== undefined) {
    // A second listener beside readline's: it sees the same chunks and reads none itself.
    input.on('data', () => progress.reading(file, input.bytesRead, size))
  }
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY })
  try {
    return await readTrace(lines, options)
  } catch (error) {
    if (!(error instanceof TraceError)) throw error
    progress?.end()
    const hint = error.line > 0 ? '\n(--lenient counts and skips malformed lines)' : ''
    console.error(`breakwater replay: ${file}: ${error.message}${hint}`)
    return 2
  } finally {
    lines.close()
    input.destroy()
  }
}

/** Whether the chart package loads; says what to do when it does not. */
async function chartsLoad(load: () => Promise<unknown>): Promise<boolean> {
  try {
    await load()
    return true
  } catch (error) {
    if (!(error instanceof ChartsUnavailableError)) throw error
    console.error(`breakwater replay: --out: ${error.message}`)
    return false
  }
}

/** Says in a sentence why a trace cannot be read, before any line is; resolves its size. */
async function checkReadable(file: string): Promise<number> {
  let isFile: boolean
  let size = 0
  try {
    const stats = await stat(file)
    isFile = stats.isFile()
    size = stats.size
    // stat needs no read permission; opening later would fail outside any sentence of ours.
    if (isFile) await access(file, constants.R_OK)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    const why =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EACCES'
          ? 'permission denied'
          : (error as Error).message
    throw new UsageError(`cannot read trace ${file}: ${why}`)
  }
  if (!isFile) throw new UsageError(`cannot read trace ${file}: not a file`)
  return size
}
