import type { HeaderReader } from '../http/header-reader.js'

/**
 * How long a server asked us to wait, read from its headers: pure, `now` comes from the caller.
 */

// Unsigned decimals only: a sign, an exponent or hex would be a server bug, not a wait.
const decimal = /^\d+(?:\.\d+)?$/
// Every HTTP-date form (IMF-fixdate, RFC 850, asctime) opens with a day name. Requiring it
// keeps `Date.parse` from reading a bare number as a year.
const httpDate = /^[A-Za-z]{3}/
// asctime carries no zone, and `Date.parse` would read it as local time; HTTP means GMT.
const asctime = /^[A-Za-z]{3} [A-Za-z]{3} +\d{1,2} \d\d:\d\d:\d\d \d{4}$/

function positive(value: string | undefined, unit: number): number | undefined {
  if (value === undefined) return undefined
  const text = value.trim()
  if (!decimal.test(text)) return undefined
  const ms = Number(text) * unit
  // Azure sends -1 and 0 when it does not know: zero means "unknown" here, not "at once".
  return ms > 0 && Number.isFinite(ms) ? ms : undefined
}

/**
 * ms the server asked to wait, or `undefined` when it did not say (or said nonsense).
 *
 * `retry-after-ms` (OpenAI, Azure; may be fractional) is more precise and wins; otherwise
 * `Retry-After` as delta-seconds or an HTTP-date, measured from `now`. A date already past
 * means "now": 0. A malformed `retry-after-ms` falls back to `Retry-After`, as the SDKs do.
 *
 * @example
 * retryAfterDelay((name) => ({ 'retry-after': '2' })[name], Date.now()) // 2000
 */
export function retryAfterDelay(header: HeaderReader, now: number): number | undefined {
  const ms = positive(header('retry-after-ms'), 1)
  if (ms !== undefined) return ms
  const value = header('retry-after')?.trim()
  if (value === undefined || value === '') return undefined
  if (!httpDate.test(value)) return positive(value, 1_000)
  const at = Date.parse(asctime.test(value) ? `${value} GMT` : value)
  if (Number.isNaN(at)) return undefined
  return Math.max(0, at - now)
}
