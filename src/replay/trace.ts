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

/** A JSON line's fields, checked; `key` as the line gives it. */
type JsonFields = Omit<TraceRequest, 'key'> & { readonly key: string | undefined }

/** Reads `{"t": ms, "method", "url", "key"?, "bytes"?, "status"?}`. */
export function parseJsonLine(line: string): LineResult {
  const fields = readJsonLine(line)
  if (typeof fields === 'string') return { ok: false, reason: fields }
  const { t, method, url, key, bytes, status } = fields
  return { ok: true, request: { t, method, url, key: key ?? `${method} ${url}`, bytes, status } }
}

/** The fields of a JSON line, or why it is malformed. */
function readJsonLine(line: string): JsonFields | string {
  let value: unknown
  try {
    value = JSON.parse(line)
  } catch (error) {
    return `not JSON (${(error as Error).message})`
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return 'not a JSON object'
  }
  const { t, method, url, key, bytes, status } = value as Record<string, unknown>
  if (typeof t !== 'number' || !Number.isFinite(t)) {
    return `"t" must be a number of ms, got ${show(t)}`
  }
  if (typeof method !== 'string' || method === '') {
    return `"method" must be a non-empty string, got ${show(method)}`
  }
  if (typeof url !== 'string' || url === '') {
    return `"url" must be a non-empty string, got ${show(url)}`
  }
  if (key !== undefined && (typeof key !== 'string' || key === '')) {
    return `"key" must be a non-empty string when given, got ${show(key)}`
  }
  if (
    bytes !== undefined &&
    !(typeof bytes === 'number' && Number.isInteger(bytes) && bytes >= 0)
  ) {
    return `"bytes" must be a whole number ≥ 0 when given, got ${show(bytes)}`
  }
  if (
    status !== undefined &&
    !(Number.isInteger(status) && (status as number) >= 100 && (status as number) <= 599)
  ) {
    return `"status" must be an HTTP status (100–599) when given, got ${show(status)}`
  }
  return {
    t,
    method: method.toUpperCase(),
    url,
    key: key as string | undefined,
    bytes,
    status: status as number | undefined,
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
    const reason = format === 'jsonl' ? addJsonLine(builder, line) : addLogLine(builder, line)
    if (reason === undefined) continue
    if (!options.lenient) throw new TraceError(number, reason)
    skipped++
    firstSkipped ??= `line ${number}: ${reason}`
  }
  if (builder.length === 0) {
    const why = skipped > 0 ? `all ${skipped} of its lines are malformed` : 'it is empty'
    throw new TraceError(0, `the trace holds no request: ${why}`)
  }
  return { trace: builder.build(), format: format ?? 'jsonl', skipped, firstSkipped }
}

/** Adds a JSON line's request to `builder`; says why not when the line is malformed. */
function addJsonLine(builder: TraceBuilder, line: string): string | undefined {
  const fields = readJsonLine(line)
  if (typeof fields === 'string') return fields
  builder.addParts(fields.t, fields.method, fields.url, fields.key, fields.bytes, fields.status)
  return undefined
}

function addLogLine(builder: TraceBuilder, line: string): string | undefined {
  const result = parseCombinedLine(line)
  if (!result.ok) return result.reason
  builder.add(result.request)
  return undefined
}

/**
 * Gathers requests into typed columns that grow by doubling, interning keys and methods: a
 * million requests cost some 30 MB, with no object kept per request.
 */
export class TraceBuilder {
  #times = new Float64Array(1_024)
  #keyIds = new Int32Array(1_024)
  #methodIds = new Int32Array(1_024)
  #bytes = new Float64Array(1_024)
  #statuses = new Uint16Array(1_024)
  #length = 0
  readonly #keys = new Map<string, number>()
  readonly #methods = new Map<string, number>()
  /** Method id → URL → key id, for requests keyed by method and URL: no key string to build. */
  readonly #byUrl: Map<string, number>[] = []
  #hasBytes = false

  get length(): number {
    return this.#length
  }

  add(r: TraceRequest): void {
    this.addParts(r.t, r.method, r.url, r.key, r.bytes, r.status)
  }

  /** A request from its parts; without a `key` it is keyed by `METHOD url`. */
  addParts(
    t: number,
    method: string,
    url: string,
    key: string | undefined,
    bytes: number | undefined,
    status: number | undefined,
  ): void {
    if (this.#length === this.#times.length) this.#grow()
    const i = this.#length++
    const methodId = intern(this.#methods, method)
    this.#times[i] = t
    this.#methodIds[i] = methodId
    this.#keyIds[i] =
      key === undefined ? this.#urlKey(methodId, method, url) : intern(this.#keys, key)
    this.#bytes[i] = bytes ?? 0
    this.#statuses[i] = status ?? 0
    if (bytes !== undefined) this.#hasBytes = true
  }

  /** The columns, sorted by time: access logs write a request when it ends, not when it began. */
  build(): Trace {
    const n = this.#length
    const times = this.#times.subarray(0, n)
    const order = isSorted(times) ? undefined : Int32Array.from({ length: n }, (_, i) => i)
    // TypedArray sort is stable too, so requests of the same ms keep their order.
    order?.sort((a, b) => (times[a] as number) - (times[b] as number))
    const pick = <T extends Float64Array | Int32Array | Uint16Array>(from: T): T => {
      const to = from.slice(0, n) as T
      if (order !== undefined)
        for (let i = 0; i < n; i++) to[i] = from[order[i] as number] as number
      return to
    }
    return {
      length: n,
      times: pick(this.#times),
      keyIds: pick(this.#keyIds),
      keys: [...this.#keys.keys()],
      methodIds: pick(this.#methodIds),
      methods: [...this.#methods.keys()],
      bytes: pick(this.#bytes),
      statuses: pick(this.#statuses),
      hasBytes: this.#hasBytes,
    }
  }

  #urlKey(methodId: number, method: string, url: string): number {
    let urls = this.#byUrl[methodId]
    if (urls === undefined) {
      urls = new Map()
      this.#byUrl[methodId] = urls
    }
    let id = urls.get(url)
    if (id === undefined) {
      // Through #keys, so that a line's own key of the same text is the same key.
      id = intern(this.#keys, `${method} ${url}`)
      urls.set(url, id)
    }
    return id
  }

  #grow(): void {
    const size = this.#times.length * 2
    const grown = <T extends Float64Array | Int32Array | Uint16Array>(from: T, to: T): T => {
      to.set(from)
      return to
    }
    this.#times = grown(this.#times, new Float64Array(size))
    this.#keyIds = grown(this.#keyIds, new Int32Array(size))
    this.#methodIds = grown(this.#methodIds, new Int32Array(size))
    this.#bytes = grown(this.#bytes, new Float64Array(size))
    this.#statuses = grown(this.#statuses, new Uint16Array(size))
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

function isSorted(values: Float64Array): boolean {
  for (let i = 1; i < values.length; i++) {
    if ((values[i] as number) < (values[i - 1] as number)) return false
  }
  return true
}
