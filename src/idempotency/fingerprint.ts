/**
 * What names an idempotency record and what tells two requests under one key apart: pure, no
 * I/O. Both are sha-256 hashes, so no credential and no body is ever stored as it is.
 */
import { createHash, hash } from 'node:crypto'
import type { Call } from '../core/call.js'
import { credentialHeaders, normalizeUrl } from '../core/key.js'
import type { Outcome } from '../core/outcome.js'
import type { RecordedOutcome } from './record-store.js'

const credentialSet = new Set(credentialHeaders)

/** 4xx answers another attempt may change: timeout, conflict, too many requests. */
const retryableClientErrors: ReadonlySet<number> = new Set([408, 409, 429])

/**
 * The record of `key` for whoever makes the call. A key is the caller's own word, and two API
 * keys may both say "order-42": the IETF draft asks that the key be scoped by who is asking.
 * HTTP calls are scoped by their credential headers; wrapped functions by their name.
 */
export function recordKeyOf(call: Call, key: string): string {
  const scope: string[] = []
  if (call.kind === 'value') scope.push(call.origin)
  else {
    for (const [name, value] of call.details.headers ?? []) {
      if (credentialSet.has(name)) scope.push(name, value)
    }
  }
  return hash('sha256', JSON.stringify([call.kind, scope, key]), 'hex')
}

/**
 * What must be the same for a repeat of a key to be the same request: method, normalized URL
 * and body, or for a wrapped function its call key (the arguments, or `options.key`).
 */
export function fingerprintOf(call: Call): string {
  if (call.kind === 'value') return call.key
  // The JSON array ends unambiguously, so the body bytes after it cannot shift a boundary.
  const head = JSON.stringify([call.method, normalizeUrl(new URL(call.url))])
  const digest = createHash('sha256').update(head)
  if (call.details.body !== undefined) digest.update(call.details.body)
  return digest.digest('hex')
}

/**
 * A terminal outcome, worth keeping: a wrapped function's value, or a complete 2xx or 4xx
 * answer that another attempt would not change. 5xx, 408, 409, 429 and live streams are not.
 */
export function isRecordable(outcome: Outcome): outcome is RecordedOutcome {
  if (outcome.kind === 'value') return true
  if (outcome.body instanceof ReadableStream) return false
  const { status } = outcome
  if (status >= 200 && status < 300) return true
  return status >= 400 && status < 500 && !retryableClientErrors.has(status)
}
