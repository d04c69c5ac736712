/**
 * `breakwater replay`: reads a trace, replays it for every size × TTL, prints the table and,
 * with --out, writes replay.json and the charts.
 */
import { createReadStream } from 'node:fs'
import { access, constants, stat } from 'node:fs/promises'
import { createInterface } from 'node:readline'
import { parseArgs } from 'node:util'
import { formatDuration } from '../replay/duration.js'
import { defaultReplayPolicy } from '../replay/lru-replay.js'
import { replayGrid } from '../replay/replay.js'
import { type ReadTraceResult, readTrace, TraceError, type TraceFormat } from '../replay/trace.js'
import { parseFlags, parseNumber, parseSizes, parseTtls, UsageError } from './args.js'
import { formatReplay, type ReplayReport, writeReplay } from './replay-output.js'
import { count } from './table.js'

export const replayUsage = `usage: breakwater replay TRACE [--max-entries 100,1000,...] [--ttl 60s,5m,...] [--out DIR]
                        [--cost-per-call N] [--lenient] [--format jsonl|combined]

Replays a request trace through breakwater's cache on a simulated clock, for every cache size
and TTL: hit ratio, byte hit ratio and upstream calls saved, beside Belady's optimal policy
at that size and the bound of a cache without a size limit.

TRACE is JSON Lines, one {"t": ms, "method", "url", "key"?, "bytes"?, "status"?} a line, or an
nginx/Apache access log in the combined (or common) format; the first line tells which.

  --max-entries LIST  cache sizes in entries (default 100,1000,10000; 10k reads too)
  --ttl LIST          freshness after each fetch: 250ms, 60s, 5m, 1h (default 60s,5m)
  --out DIR           write replay.json, hit-ratio.svg and calls-saved.svg there
  --cost-per-call N   money one upstream call costs: shows what the cache saves
  --lenient           count and skip malformed lines instead of stopping at the first
  --format FORMAT     read TRACE as jsonl or combined, whatever its first line
  --help              this text`

export async function replayCommand(args: readonly string[]): Promise<number> {
  const { values, positionals } = parseFlags(
    () =>
      parseArgs({
        args: [...args],
        options: {
          'max-entries': { type: 'string', default: '100,1000,10000' },
          ttl: { type: 'string', default: '60s,5m' },
          out: { type: 'string' },
          'cost-per-call': { type: 'string' },
          lenient: { type: 'boolean', default: false },
          format: { type: 'string' },
          help: { type: 'boolean', short: 'h' },
        },
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

  await checkReadable(file)
  const started = performance.now()
  const input = createReadStream(file)
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY })
  let read: ReadTraceResult
  try {
    read = await readTrace(lines, { format, lenient: values.lenient })
  } catch (error) {
    if (!(error instanceof TraceError)) throw error
    const hint = error.line > 0 ? '\n(--lenient counts and skips malformed lines)' : ''
    console.error(`breakwater replay: ${file}: ${error.message}${hint}`)
    return 2
  } finally {
    lines.close()
    input.destroy()
  }
  const readMs = performance.now() - started
  const progress = process.stderr.isTTY ? progressLine : undefined
  const summary = await replayGrid(read.trace, {
    maxEntries,
    ttls,
    costPerCall,
    onProgress: progress,
  })
  if (progress) process.stderr.write('\r\x1b[K')
  const replayMs = performance.now() - started - readMs

  const report: ReplayReport = {
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
    readMs,
    replayMs,
  }
  console.log(formatReplay(report))
  if (values.out !== undefined) {
    const written = await writeReplay(report, values.out, (reason) =>
      console.error(`charts skipped: ${reason}`),
    )
    console.log(`\nwrote ${written.join(', ')}`)
  }
  return 0
}

function formatOf(text: string | undefined): TraceFormat | undefined {
  if (text === undefined || text === 'jsonl' || text === 'combined') return text
  throw new UsageError(`--format: ${JSON.stringify(text)} is not jsonl or combined`)
}

/** Says in a sentence why a trace cannot be read, before any line is. */
async function checkReadable(file: string): Promise<void> {
  let isFile: boolean
  try {
    isFile = (await stat(file)).isFile()
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
}

function progressLine(
  done: number,
  total: number,
  row: { maxEntries: number; ttlMs: number },
): void {
  process.stderr.write(
    `\r\x1b[Kreplaying ${done + 1}/${total}: ${count(row.maxEntries)} entries, ttl ${formatDuration(row.ttlMs)}`,
  )
}
