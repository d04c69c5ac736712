/**
 * Retry delays as pure math: no clock, no timers, and the randomness is passed in, so every
 * delay can be tested exactly.
 */
import type { Backoff, Jitter } from './options.js'

/** What shapes a delay; `ResolvedRetry` satisfies it. */
export interface BackoffSettings {
  /** ms, the first delay before jitter. */
  readonly baseDelay: number
  /** ms, no delay is longer. */
  readonly maxDelay: number
  readonly backoff: Backoff
  readonly jitter: Jitter
}

// 2^52 ms is already past any maxDelay; capping the exponent keeps `0 · 2^n` from becoming NaN.
const maxExponent = 52

/** The delay before jitter for the retry after `attempt` (1-based), capped at `maxDelay`. */
function baseBackoff(attempt: number, settings: BackoffSettings): number {
  const { baseDelay, maxDelay, backoff } = settings
  const n = Math.max(1, attempt)
  let delay: number
  switch (backoff) {
    case 'exponential':
      delay = baseDelay * 2 ** Math.min(n - 1, maxExponent)
      break
    case 'linear':
      delay = baseDelay * n
      break
    case 'fixed':
      delay = baseDelay
      break
  }
  return Math.min(maxDelay, delay)
}

/**
 * ms to wait after the failed `attempt` (1-based) before the next one.
 *
 * - `'full'`: uniform in [0, d]: spreads a herd of clients best (AWS "full jitter").
 * - `'equal'`: uniform in [d/2, d]: never retries at once, still spread.
 * - `'decorrelated'`: uniform in [base, 3·previous], capped; it grows from the previous delay
 *   rather than from the attempt count, so `backoff` does not apply. `previousDelay` is the
 *   delay waited before this one (`undefined` before the first retry: the base is used).
 * - `'none'`: exactly d.
 *
 * @example
 * backoffDelay(3, { baseDelay: 200, maxDelay: 20_000, backoff: 'exponential', jitter: 'none' },
 *   undefined, Math.random) // 800
 */
export function backoffDelay(
  attempt: number,
  settings: BackoffSettings,
  previousDelay: number | undefined,
  random: () => number,
): number {
  const { baseDelay, maxDelay, jitter } = settings
  switch (jitter) {
    case 'decorrelated': {
      // A previous wait shorter than the base (a Retry-After of 0) must not shrink the range.
      const previous = Math.max(previousDelay ?? baseDelay, baseDelay)
      return Math.min(maxDelay, baseDelay + random() * (3 * previous - baseDelay))
    }
    case 'full':
      return random() * baseBackoff(attempt, settings)
    case 'equal': {
      const delay = baseBackoff(attempt, settings)
      return delay / 2 + (random() * delay) / 2
    }
    case 'none':
      return baseBackoff(attempt, settings)
  }
}
