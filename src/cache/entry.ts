import type { Outcome } from '../core/outcome.js'
import { isReasonPhrase, isResponseStatus } from '../http/status-line.js'
import type { EntryTimes } from './freshness.js'

/** What the cache stage keeps under a call's key. */
export interface CacheEntry {
  readonly outcome: Outcome
  readonly times: EntryTimes
}

/**
 * True when `value` has the shape of a `CacheEntry`. A store may be shared with other code or
 * hold what an older version wrote, so whatever it returns is checked before it is served.
 */
export function isEntry(value: unknown): value is CacheEntry {
  if (typeof value !== 'object' || value === null) return false
  const { outcome, times } = value as { outcome?: unknown; times?: unknown }
  return isTimes(times) && isOutcome(outcome)
}

/** True when `value` has the shape of `EntryTimes`. */
export function isTimes(value: unknown): value is EntryTimes {
  if (typeof value !== 'object' || value === null) return false
  const t = value as Record<keyof EntryTimes, unknown>
  return (
    Number.isFinite(t.storedAt) &&
    Number.isFinite(t.freshUntil) &&
    Number.isFinite(t.staleWhileRevalidateUntil) &&
    Number.isFinite(t.staleIfErrorUntil)
  )
}

/**
 * True when `value` has the shape of an `Outcome` whose body, if any, is complete bytes, and
 * whose status line a `Response` can carry: a reason phrase such as `OK ✓`, stored before the
 * transport cleaned them, would make every hit throw until the entry expired.
 */
export function isOutcome(value: unknown): value is Outcome {
  if (typeof value !== 'object' || value === null) return false
  const o = value as Record<string, unknown>
  if (o.kind === 'value') return 'value' in o
  return (
    o.kind === 'http' &&
    typeof o.status === 'number' &&
    isResponseStatus(o.status) &&
    typeof o.statusText === 'string' &&
    isReasonPhrase(o.statusText) &&
    typeof o.url === 'string' &&
    (o.body === null || o.body instanceof Uint8Array) &&
    isHeaderPairs(o.headers)
  )
}

function isHeaderPairs(value: unknown): boolean {
  if (!Array.isArray(value)) return false
  for (const pair of value) {
    if (!Array.isArray(pair) || typeof pair[0] !== 'string' || typeof pair[1] !== 'string') {
      return false
    }
  }
  return true
}
