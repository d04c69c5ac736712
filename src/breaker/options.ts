import type { CallDetails } from '../core/call.js'
import { func, integer, object, timerMs } from '../core/validate.js'

export interface BreakerOptions {
  /** Consecutive failed calls that open the breaker. @default 5 */
  failureThreshold?: number
  /** ms the breaker stays open before one probe call is let through. @default 10_000 */
  halfOpenAfter?: number
  /** One breaker per value. @default the call's origin */
  scope?: (call: CallDetails) => string
}

export interface ResolvedBreaker {
  readonly failureThreshold: number
  readonly halfOpenAfter: number
  readonly scope: (call: CallDetails) => string
}

/** The defaults of `breaker`. */
export const breakerDefaults = { failureThreshold: 5, halfOpenAfter: 10_000 } as const

/** Most consecutive failures a breaker may wait for: past it, it never opens. */
const maxFailureThreshold = 1_000_000

/** Validates `breaker`. */
export function resolveBreaker(value: unknown): ResolvedBreaker | false {
  if (value === false) return false
  const o = object<BreakerOptions>('breaker', value ?? {}, [
    'failureThreshold',
    'halfOpenAfter',
    'scope',
  ])
  const d = breakerDefaults
  return {
    failureThreshold: integer(
      'breaker.failureThreshold',
      o.failureThreshold,
      d.failureThreshold,
      1,
      maxFailureThreshold,
    ),
    halfOpenAfter: timerMs('breaker.halfOpenAfter', o.halfOpenAfter, d.halfOpenAfter),
    scope: func<ResolvedBreaker['scope']>('breaker.scope', o.scope) ?? ((call) => call.origin),
  }
}
