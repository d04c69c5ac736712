import type { CallInfo } from '../core/call.js'
import {
  boolean,
  func,
  integer,
  list,
  maxServerWaitMs,
  number,
  object,
  oneOf,
  timerMs,
} from '../core/validate.js'

/** What `retry.retryOn` is asked about one failed attempt. */
export interface RetryContext extends CallInfo {
  /** The attempt that just ended, 1-based. */
  readonly attempt: number
  /** The HTTP status of the attempt, if it got one (also read from a thrown error's `status`). */
  readonly status: number | undefined
  /** The error the attempt threw, if it threw. */
  readonly error: unknown
  /** Reads a response header (or a header carried by a thrown error). */
  header(name: string): string | undefined
  /**
   * The failed response's body, when a `retryOn` or `retryAfter` hook is set and the body is
   * not an event stream: read whole (up to 64 KiB) so that the hook can see what the server
   * said, e.g. a quota error's code. `undefined` for thrown errors: read `error` instead.
   */
  readonly body: Uint8Array | undefined
}

export interface RetryBudgetOptions {
  /** Retries allowed as a share of calls over the last 10 s. @default 0.2 */
  ratio?: number
  /** Retries always allowed per second, whatever the ratio. @default 10 */
  minPerSecond?: number
}

export type Backoff = 'exponential' | 'linear' | 'fixed'
export type Jitter = 'full' | 'equal' | 'decorrelated' | 'none'

export interface RetryOptions {
  /** Attempts in all, the first included. @default 4 */
  maxAttempts?: number
  /** ms, the first delay before jitter. @default 200 */
  baseDelay?: number
  /** ms, the largest delay. @default 20_000 */
  maxDelay?: number
  /** How the delay grows from one attempt to the next. @default 'exponential' */
  backoff?: Backoff
  /** How the delay is randomized. @default 'full' */
  jitter?: Jitter
  /** Retryable HTTP statuses. @default [408, 425, 429, 500, 502, 503, 504] */
  statuses?: readonly number[]
  /** Wait what `retry-after-ms` / `Retry-After` ask. @default true */
  respectRetryAfter?: boolean
  /** ms; when the server asks a longer wait, give up at once with its response. @default 60_000 */
  maxRetryAfter?: number
  /** ms for the whole call; no wait starts that would end past it. @default none */
  deadline?: number
  /** Retry storm guard, or `false`. @default { ratio: 0.2, minPerSecond: 10 } */
  budget?: RetryBudgetOptions | false
  /**
   * Asked about each failed attempt (a throw, or a status ≥ 400): is it retryable? Its word
   * beats the status and error rules; `undefined` keeps them. The limits still hold: attempts,
   * `maxRetryAfter`, the deadline, the budget, and a non-idempotent call is never sent twice.
   */
  retryOn?: (context: RetryContext) => boolean | undefined
  /**
   * ms the server asked to wait where no header says it (a JSON body, such as Gemini's
   * `RetryInfo.retryDelay`); `undefined` leaves the backoff. `retry-after-ms` and `Retry-After`
   * win over it; `respectRetryAfter` and `maxRetryAfter` apply to it as to them.
   */
  retryAfter?: (context: RetryContext) => number | undefined
}

export interface ResolvedRetry {
  readonly maxAttempts: number
  readonly baseDelay: number
  readonly maxDelay: number
  readonly backoff: Backoff
  readonly jitter: Jitter
  readonly statuses: ReadonlySet<number>
  readonly respectRetryAfter: boolean
  readonly maxRetryAfter: number
  readonly deadline: number | undefined
  readonly budget: { readonly ratio: number; readonly minPerSecond: number } | false
  readonly retryOn: ((context: RetryContext) => boolean | undefined) | undefined
  readonly retryAfter: ((context: RetryContext) => number | undefined) | undefined
}

/** The defaults of `retry`. */
export const retryDefaults = {
  maxAttempts: 4,
  baseDelay: 200,
  maxDelay: 20_000,
  backoff: 'exponential',
  jitter: 'full',
  statuses: [408, 425, 429, 500, 502, 503, 504],
  respectRetryAfter: true,
  maxRetryAfter: 60_000,
  budget: { ratio: 0.2, minPerSecond: 10 },
} as const

/**
 * Most attempts of one call: past a hundred, a retry loop no longer rides out a blip, it hides
 * an outage (the deadline is the way to keep trying for a while).
 */
const maxAttemptsLimit = 100
/** Highest rate the budget takes: past it, it never acts. */
const maxLimit = 1_000_000

const isStatus = (v: unknown) => Number.isInteger(v) && (v as number) >= 100 && (v as number) <= 599

/** Validates `retry`. */
export function resolveRetry(value: unknown): ResolvedRetry | false {
  if (value === false) return false
  const o = object<RetryOptions>('retry', value ?? {}, [
    'maxAttempts',
    'baseDelay',
    'maxDelay',
    'backoff',
    'jitter',
    'statuses',
    'respectRetryAfter',
    'maxRetryAfter',
    'deadline',
    'budget',
    'retryOn',
    'retryAfter',
  ])
  const d = retryDefaults
  const baseDelay = timerMs('retry.baseDelay', o.baseDelay, d.baseDelay)
  const maxDelay = timerMs('retry.maxDelay', o.maxDelay, Math.max(d.maxDelay, baseDelay))
  if (maxDelay < baseDelay) {
    throw new RangeError(`retry.maxDelay must be ≥ retry.baseDelay (${baseDelay}), got ${maxDelay}`)
  }
  let budget: ResolvedRetry['budget'] = false
  if (o.budget !== false) {
    const b = object<RetryBudgetOptions>('retry.budget', o.budget ?? {}, ['ratio', 'minPerSecond'])
    budget = {
      // A share of calls: above 1 the guard would let a storm through.
      ratio: number('retry.budget.ratio', b.ratio, d.budget.ratio, 0, 1),
      minPerSecond: number(
        'retry.budget.minPerSecond',
        b.minPerSecond,
        d.budget.minPerSecond,
        0,
        maxLimit,
      ),
    }
  }
  return {
    maxAttempts: integer('retry.maxAttempts', o.maxAttempts, d.maxAttempts, 1, maxAttemptsLimit),
    baseDelay,
    maxDelay,
    backoff: oneOf<Backoff>('retry.backoff', o.backoff, d.backoff, [
      'exponential',
      'linear',
      'fixed',
    ]),
    jitter: oneOf<Jitter>('retry.jitter', o.jitter, d.jitter, [
      'full',
      'equal',
      'decorrelated',
      'none',
    ]),
    statuses: new Set(
      list<number>('retry.statuses', o.statuses, d.statuses, isStatus, 'HTTP statuses (100-599)'),
    ),
    respectRetryAfter: boolean('retry.respectRetryAfter', o.respectRetryAfter, d.respectRetryAfter),
    // Every wait a server asks is cut to maxServerWaitMs: a higher limit would accept a wait
    // the cut then shortens, retrying before the server said.
    maxRetryAfter: number(
      'retry.maxRetryAfter',
      o.maxRetryAfter,
      d.maxRetryAfter,
      0,
      maxServerWaitMs,
    ),
    deadline: o.deadline === undefined ? undefined : timerMs('retry.deadline', o.deadline, 0, 1),
    budget,
    retryOn: func('retry.retryOn', o.retryOn),
    retryAfter: func('retry.retryAfter', o.retryAfter),
  }
}
