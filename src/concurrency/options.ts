import type { CallDetails } from '../core/call.js'
import { func, integer, object } from '../core/validate.js'

export interface ConcurrencyOptions {
  /** Upstream attempts in flight at once, per key. */
  limit: number
  /** One limit per value (per host, per API key...). @default one limit for all */
  key?: (call: CallDetails) => string
}

export interface ResolvedConcurrency {
  readonly limit: number
  readonly key: ((call: CallDetails) => string) | undefined
}

/** Most attempts in flight a limit may allow: past it, no socket pool would keep up anyway. */
const maxConcurrency = 1_000_000

/** Validates `concurrency`: a number, or `{ limit, key }`. */
export function resolveConcurrency(value: unknown): ResolvedConcurrency | false {
  if (value === undefined || value === false) return false
  if (typeof value === 'number')
    return { limit: integer('concurrency', value, 1, 1, maxConcurrency), key: undefined }
  const o = object<ConcurrencyOptions>('concurrency', value, ['limit', 'key'])
  return {
    limit: integer('concurrency.limit', o.limit ?? Number.NaN, 1, 1, maxConcurrency),
    key: func('concurrency.key', o.key),
  }
}
