import { checkIdempotencyKey } from '../core/call-options.js'
import { credentialHeaders } from '../core/key.js'
import { isNonEmptyString, show } from '../core/validate.js'

/** An HTTP call as a queue stores it: plain JSON, so that any worker can send it later. */
export interface QueuedRequest {
  /** @default 'GET' */
  readonly method?: string
  /** Absolute `http:` or `https:` URL. */
  readonly url: string
  /** Request headers. Credentials are stored with the job (workers need them) but never shown. */
  readonly headers?: Readonly<Record<string, string>>
  /** The body, as text (JSON is text). Not allowed on GET and HEAD. */
  readonly body?: string
}

/**
 * What one job is: an HTTP call, or a call of a function registered with the queue. `resend`:
 * sent back from the dead-letter list by a person, so its call is sent even when an earlier
 * run's outcome is unknown.
 */
export type JobData =
  | {
      readonly kind: 'http'
      readonly request: QueuedRequest
      readonly key: string
      readonly resend?: true
    }
  | {
      readonly kind: 'call'
      readonly name: string
      readonly args: readonly unknown[]
      readonly key: string
      readonly resend?: true
    }

/** What an HTTP job completes with. */
export interface HttpJobResult {
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
  readonly body: string
  /** The outcome was replayed from the job's idempotency record, not fetched again. */
  readonly replayed: boolean
}

/** Where a job stands. `dead`: failed for good, in the dead-letter list. */
export type JobState = 'waiting' | 'delayed' | 'active' | 'completed' | 'dead'

/** One entry of a job's history: every start, failed attempt, pause and retry, with its time. */
export interface JobHistoryEntry {
  /** ms since the epoch, on the clock of the process that wrote it. */
  readonly at: number
  readonly event: 'started' | 'failed' | 'paused' | 'dead' | 'completed' | 'handedBack' | 'retried'
  readonly reason?: string
  /** ms the job was put off for (`failed` with a backoff, `paused`). */
  readonly delay?: number
  /** The process that wrote the entry. */
  readonly pid?: number
}

/** A job as `get`, `wait` and the dead-letter list show it. */
export interface JobInfo {
  readonly id: string
  readonly state: JobState
  /** The job, credentials redacted. */
  readonly data: JobData
  readonly result?: unknown
  /** The last failure's reason. */
  readonly error?: string
  /** Attempts that failed or succeeded so far (pauses and crashes are not attempts). */
  readonly attemptsMade: number
  readonly history: readonly JobHistoryEntry[]
  readonly createdAt: number
  readonly finishedAt?: number
}

const redacted = '[redacted]'
const credentials = new Set(credentialHeaders)

/** The job with every credential header's value replaced: what may be shown or logged. */
export function redact(data: JobData): JobData {
  if (data.kind !== 'http' || data.request.headers === undefined) return data
  const headers = Object.fromEntries(
    Object.entries(data.request.headers).map(([name, value]) => [
      name,
      credentials.has(name.toLowerCase()) ? redacted : value,
    ]),
  )
  return { ...data, request: { ...data.request, headers } }
}

/** Checks a request handed to `add`, naming what is wrong; returns it in stored form. */
export function checkRequest(value: unknown): QueuedRequest {
  if (typeof value !== 'object' || value === null) {
    throw new TypeError(`request must be an object, got ${show(value)}`)
  }
  const { method = 'GET', url, headers, body } = value as Record<string, unknown>
  if (typeof method !== 'string' || !/^[A-Za-z]+$/.test(method)) {
    throw new TypeError(`request.method must be a method name, got ${show(method)}`)
  }
  const parsed = typeof url === 'string' && URL.canParse(url) ? new URL(url) : undefined
  if (parsed === undefined || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
    throw new TypeError(`request.url must be an absolute http(s) URL, got ${show(url)}`)
  }
  if (headers !== undefined) checkHeaders(headers)
  const upper = method.toUpperCase()
  if (body !== undefined && (typeof body !== 'string' || upper === 'GET' || upper === 'HEAD')) {
    throw new TypeError(`request.body must be a string, and absent on ${upper}, got ${show(body)}`)
  }
  return {
    method: upper,
    url: parsed.href,
    ...(headers === undefined ? {} : { headers: headers as Record<string, string> }),
    ...(body === undefined ? {} : { body: body as string }),
  }
}

function checkHeaders(headers: unknown): void {
  if (typeof headers !== 'object' || headers === null || Array.isArray(headers)) {
    throw new TypeError(`request.headers must be a plain object, got ${show(headers)}`)
  }
  for (const [name, value] of Object.entries(headers)) {
    if (typeof value !== 'string') {
      throw new TypeError(`request.headers.${name} must be a string, got ${show(value)}`)
    }
  }
}

/**
 * A job id BullMQ takes: not digits only (those are its own counter's), no `:`, and usable as
 * an idempotency key, since it is the default one.
 */
export function checkJobId(name: string, value: unknown): string {
  const id = checkIdempotencyKey(name, value)
  if (/^\d+$/.test(id) || id.includes(':')) {
    throw new TypeError(`${name} must not be digits only nor contain ":", got ${show(id)}`)
  }
  return id
}

/** Checks a registered function's name and the arguments of a `call` job. */
export function checkCall(name: unknown, args: unknown): readonly unknown[] {
  if (!isNonEmptyString(name)) {
    throw new TypeError(`call name must be a non-empty string, got ${show(name)}`)
  }
  if (!Array.isArray(args)) throw new TypeError(`call args must be an array, got ${show(args)}`)
  try {
    // Stored as JSON: the function gets what JSON keeps of them.
    JSON.stringify(args)
  } catch (error) {
    throw new TypeError(`call args must be JSON, got ${show(args)}`, { cause: error })
  }
  return args
}
