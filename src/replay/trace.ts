/**
 * Request traces: one request a line, as JSON Lines or as an nginx/Apache access log, read into
 * columns that a million requests fit in. No file I/O here: the caller hands in the lines.
 */
import { parseCombinedLine } from './combined-log.js'

export type TraceFormat = 'jsonl' | 'combined'

/** One request of a trace, as read from its line. */
export interface TraceRequest {
  /** ms; only differences matter, so epoch ms and ms since the start both do. */
  readonly t: number
  readonly method: string
  readonly url: string
  /** What the cache keys on: the line's `key`, else method and URL. */
  readonly key: string
  /** Size of the answer, when the line says. */
  readonly bytes: number | undefined
  /** Status of the answer, when the line says. */
  readonly status: number | undefined
}

/** A line read: the request, or what was wrong with it. */
export type LineResult =
  | { readonly ok: true; readonly request: TraceRequest }
  | { readonly ok: false; readonly reason: string }

/** A malformed line, or a trace with nothing to replay. */
export class TraceError extends Error {
  override name = 'TraceError'
  /** 1-based; 0 when the trace as a whole is at fault. */
  readonly line: number

  constructor(line: number, reason: string) {
    super(line === 0 ? reason : `line ${line}: ${reason}`)
    this.line = line
  }
}

/** A trace in time order, as parallel columns. */
export interface Trace {
  readonly length: number
  readonly times: Float64Array
  /** Index into `keys`. */
  readonly keyIds: Int32Array
  readonly keys: readonly string[]
  /** Index into `methods`. */
  readonly methodIds: Int32Array
  readonly methods: readonly string[]
  /** 0 where the line gave no size. */
  readonly bytes: Float64Array
  /** 0 where the line gave no status. */
  readonly statuses: Uint16Array
  /** Some line gave a size: without any, a byte hit ratio means nothing. */
  readonly hasBytes: boolean
}

export interface ReadTraceOptions {
  /** Read as this format; by default the first line decides. */
  readonly format?: TraceFormat | undefined
  /** Count and skip malformed lines instead of stopping at the first. */
  readonly lenient?: boolean
}

export interface ReadTraceResult {
  readonly trace: Trace
  readonly format: TraceFormat
  /** Malformed lines skipped (lenient only). */
  readonly skipped: number
  /** The first of them, with its line number. */
  readonly firstSkipped: string | undefined
}

/** JSON Lines if the first line is an object; anything else is taken for an access log. */
export function detectFormat(firstLine: string): TraceFormat {
  return firstLine.trimStart().startsWith('{') ? 'jsonl' : 'combined'
}

/** Reads `{"t": ms, "method", "url", "key"?, "bytes"?, "status"?}`. */
export function parseJsonLine(line: string): LineResult {
  let value: unknown
  try {
    value = JSON.parse(line)
  } catch (error) {
    return { ok: false, reason: `not JSON (${(error as Error).message})` }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, reason: 'not a JSON object' }
  }
  const { t, method, url, key, bytes, status } = value as Record<string, unknown>
  if (typeof t !== 'number' || !Number.isFinite(t)) {
    return { ok: false, reason: `"t" must be a number of ms, got ${show(t)}` }
  }
  if (typeof method !== 'string' || method === '') {
    return { ok: false, reason: `"method" must be a non-empty string, got ${show(method)}` }
  }
  if (typeof url !== 'string' || url === '') {
    return { ok: false, reason: `"url" must be a non-empty string, got ${show(url)}` }
  }
  if (key !== undefined && (typeof key !== 'string' || key === '')) {
    return { ok: false, reason: `"key" must be a non-empty string when given, got ${show(key)}` }
  }
  if (
    bytes !== undefined &&
    !(typeof bytes === 'number' && Number.isInteger(bytes) && bytes >= 0)
  ) {
    return {
      ok: false,
      reason: `"bytes" must be a whole number ≥ 0 when given, got ${show(bytes)}`,
    }
  }
  if (
    status !== undefined &&
    !(Number.isInteger(status) && (status as number) >= 100 && (status as number) <= 599)
  ) {
    return {
      ok: false,
      reason: `"status" must be an HTTP status (100–599) when given, got ${show(status)}`,
    }
  }
  const upper = method.toUpperCase()
  return {
    ok: true,
    request: {
      t,
      method: upper,
      url,
      key: key ?? `${upper} ${url}`,
      bytes,
      status: status as number | undefined,
    },
  }
}

function show(value: unknown): string {
  return value === undefined ? 'nothing' : JSON.stringify(value)
}

/**
 * Reads a trace from its lines. Blank lines are skipped; a malformed one throws a `TraceError`
 * with its number, or is counted and skipped when `lenient`.
 */
export async function readTrace(
  lines: AsyncIterable<string> | Iterable<string>,
  options: ReadTraceOptions = {},
): Promise<ReadTraceResult> {
  const builder = new TraceBuilder()
  let format = options.format
  let skipped = 0
  let firstSkipped: string | undefined
  let number = 0
  for await (const line of lines) {
    number++
    if (line.trim() === '') continue
    format ??= detectFormat(line)
    const result = format === 'jsonl' ? parseJsonLine(line) : parseCombinedLine(line)
    if (result.ok) {
      builder.add(result.request)
      continue
    }
    if (!options.lenient) throw new TraceError(number, result.reason)
    skipped++
    firstSkipped ??= `line ${number}: ${result.reason}`
  }
  if (builder.length === 0) {
    const why = skipped > 0 ? `all ${skipped} of its lines are malformed` : 'it is empty'
    throw new TraceError(0, `the trace holds no request: ${why}`)
  }
  return { trace: builder.build(), format: format ?? 'jsonl', skipped, firstSkipped }
}

/** Gathers requests into columns, interning keys and methods. */
export class TraceBuilder {
  readonly #times: number[] = []
  readonly #keyIds: number[] = []
  readonly #methodIds: number[] = []
  readonly #bytes: number[] = []
  readonly #statuses: number[] = []
  readonly #keys = new Map<string, number>()
  readonly #methods = new Map<string, number>()
  #hasBytes = false

  get length(): number {
    return this.#times.length
  }

  add(request: TraceRequest): void {
    this.#times.push(request.t)
    this.#keyIds.push(intern(this.#keys, request.key))
    this.#methodIds.push(intern(this.#methods, request.method))
    this.#bytes.push(request.bytes ?? 0)
    this.#statuses.push(request.status ?? 0)
    if (request.bytes !== undefined) this.#hasBytes = true
  }

  /** The columns, sorted by time: access logs write a request when it ends, not when it began. */
  build(): Trace {
    const n = this.#times.length
    const order = Array.from({ length: n }, (_, i) => i)
    const times = this.#times
    // Array.prototype.sort is stable, so requests of the same ms keep their order.
    if (!isSorted(times)) order.sort((a, b) => (times[a] as number) - (times[b] as number))
    const pick = <T extends Float64Array | Int32Array | Uint16Array>(from: number[], to: T): T => {
      for (let i = 0; i < n; i++) to[i] = from[order[i] as number] as number
      return to
    }
    return {
      length: n,
      times: pick(times, new Float64Array(n)),
      keyIds: pick(this.#keyIds, new Int32Array(n)),
      keys: [...this.#keys.keys()],
      methodIds: pick(this.#methodIds, new Int32Array(n)),
      methods: [...this.#methods.keys()],
      bytes: pick(this.#bytes, new Float64Array(n)),
      statuses: pick(this.#statuses, new Uint16Array(n)),
      hasBytes: this.#hasBytes,
    }
  }
}

function intern(table: Map<string, number>, value: string): number {
  let id = table.get(value)
  if (id === undefined) {
    id = table.size
    table.set(value, id)
  }
  return id
}

function isSorted(values: readonly number[]): boolean {
  for (let i = 1; i < values.length; i++) {
    if ((values[i] as number) < (values[i - 1] as number)) return false
  }
  return true
}
