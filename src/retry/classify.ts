/**
 * What one attempt's failure was, and whether another attempt may help: pure, no I/O. Reads an
 * HTTP outcome, or whatever a transport or a wrapped SDK threw.
 */
import { isTimeoutError } from '../core/errors.js'
import type { Outcome } from '../core/outcome.js'
import type { HeaderReader } from '../http/header-reader.js'
import { headerOf } from '../http/headers.js'

/** Network failures that a later attempt may not meet (resets, refusals, timeouts, DNS hiccups). */
export const retryableCodes: ReadonlySet<string> = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EHOSTDOWN',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CLOSED',
])

/**
 * Failures that happen before a byte of the request left: the server cannot have acted on it, so
 * even a non-idempotent call may be sent again.
 */
export const beforeSendCodes: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EHOSTDOWN',
  'UND_ERR_CONNECT_TIMEOUT',
])

// ENOTFOUND is known but never retried: the name does not exist (EAI_AGAIN is the transient one).
const knownCodes: ReadonlySet<string> = new Set([...retryableCodes, 'ENOTFOUND'])

/** What classification found out about one attempt. */
export interface Verdict {
  /** The attempt threw, or answered with a status ≥ 400. Only failed attempts are retried. */
  readonly failed: boolean
  /** Another attempt may succeed, by the default rules. */
  readonly retryable: boolean
  /** The failure is known to have happened before the request was sent. */
  readonly beforeSend: boolean
  /** The HTTP status of the outcome, or carried by the error. */
  readonly status: number | undefined
  /** The network error code found on the error or its causes. */
  readonly code: string | undefined
  /** Reads a header of the response, or carried by the error. */
  readonly header: HeaderReader
  /** For events: `'status 503'`, `'ECONNRESET'`, `'timeout'`. */
  readonly reason: string
}

const noHeaders: HeaderReader = () => undefined

const success: Verdict = {
  failed: false,
  retryable: false,
  beforeSend: false,
  status: undefined,
  code: undefined,
  header: noHeaders,
  reason: 'value',
}

/** Classifies an attempt that resolved. A wrapped function's value is always a success. */
export function classifyOutcome(outcome: Outcome, statuses: ReadonlySet<number>): Verdict {
  if (outcome.kind === 'value') return success
  return byStatus(outcome.status, (name) => headerOf(outcome, name.toLowerCase()), statuses)
}

/**
 * Classifies what an attempt threw. Reads `status`/`statusCode`, `headers` and `code` from the
 * error, its `response` (got, axios, ky), its `cause` chain and an `AggregateError`'s `errors`:
 * undici's fetch throws `TypeError('fetch failed')` with the socket error as its cause.
 */
export function classifyError(error: unknown, statuses: ReadonlySet<number>): Verdict {
  const nodes = related(error)
  const status = firstOf(nodes, statusOf)
  const header = firstOf(nodes, headerReaderOf) ?? noHeaders
  if (status !== undefined) return { ...byStatus(status, header, statuses), failed: true }
  const base = { failed: true, status, header }
  if (nodes.some(isTimeoutError)) {
    return { ...base, code: 'TIMEOUT', retryable: true, beforeSend: false, reason: 'timeout' }
  }
  const codes = nodes.map(codeOf).filter((c) => c !== undefined)
  const code = codes.find((c) => knownCodes.has(c)) ?? codes[0]
  if (code === undefined) {
    const reason = error instanceof Error ? error.name : 'error'
    return { ...base, code, retryable: false, beforeSend: false, reason }
  }
  return {
    ...base,
    code,
    retryable: retryableCodes.has(code),
    beforeSend: beforeSendCodes.has(code),
    reason: code,
  }
}

function byStatus(status: number, header: HeaderReader, statuses: ReadonlySet<number>): Verdict {
  const failed = status >= 400
  // The server knows best whether a retry can help (OpenAI, Anthropic): it beats our list.
  const hint = failed ? header('x-should-retry')?.trim().toLowerCase() : undefined
  const retryable =
    hint === 'true' ? true : hint === 'false' ? false : failed && statuses.has(status)
  const reason = `status ${status}`
  return { failed, retryable, beforeSend: false, status, code: undefined, header, reason }
}

// Cause chains can be cyclic or absurdly deep; a handful of levels holds every real one.
const maxNodes = 32

/** The error and everything it wraps, breadth-first, each object once. */
function related(error: unknown): object[] {
  const found: object[] = []
  const queue: unknown[] = [error]
  while (queue.length > 0 && found.length < maxNodes) {
    const node = queue.shift()
    if (typeof node !== 'object' || node === null || found.includes(node)) continue
    found.push(node)
    const { cause, response, errors } = node as Record<string, unknown>
    queue.push(response, cause)
    if (Array.isArray(errors)) queue.push(...errors)
  }
  return found
}

function firstOf<T>(nodes: object[], read: (node: object) => T | undefined): T | undefined {
  for (const node of nodes) {
    const value = read(node)
    if (value !== undefined) return value
  }
  return undefined
}

function statusOf(node: object): number | undefined {
  const { status, statusCode } = node as Record<string, unknown>
  for (const value of [status, statusCode]) {
    if (Number.isInteger(value) && (value as number) >= 100 && (value as number) <= 599) {
      return value as number
    }
  }
  return undefined
}

function codeOf(node: object): string | undefined {
  const { code } = node as Record<string, unknown>
  return typeof code === 'string' && code.length > 0 ? code : undefined
}

/**
 * A case-insensitive reader over `Headers`, a `Map` (iterated, since its `get` is
 * case-sensitive), anything else with `get`, or a plain object of headers.
 */
function headerReaderOf(node: object): HeaderReader | undefined {
  const { headers } = node as Record<string, unknown>
  if (typeof headers !== 'object' || headers === null) return undefined
  if (Symbol.iterator in headers) {
    const pairs = headers as Iterable<unknown>
    return (name) => {
      const wanted = name.toLowerCase()
      for (const pair of pairs) {
        if (Array.isArray(pair) && String(pair[0]).toLowerCase() === wanted) return text(pair[1])
      }
      return undefined
    }
  }
  const { get } = headers as { get?: unknown }
  if (typeof get === 'function') {
    return (name) => text(get.call(headers, name) ?? get.call(headers, name.toLowerCase()))
  }
  const record = headers as Record<string, unknown>
  return (name) => {
    const wanted = name.toLowerCase()
    for (const key of Object.keys(record)) {
      if (key.toLowerCase() === wanted) return text(record[key])
    }
    return undefined
  }
}

/** A header value as one string: the first of a list (`string[]` in node:http objects). */
function text(value: unknown): string | undefined {
  if (Array.isArray(value)) return text(value[0])
  if (typeof value === 'string') return value
  if (typeof value === 'number') return String(value)
  return undefined
}
