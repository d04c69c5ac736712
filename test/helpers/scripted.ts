import type { Call } from '../../src/core/call.js'
import type { HttpOutcome, Outcome } from '../../src/core/outcome.js'
import type { Next } from '../../src/core/stage.js'
import { resolveOptions } from '../../src/options.js'
import type { ResolvedRetry, RetryOptions } from '../../src/retry/options.js'
import { httpOutcome } from './call.js'

/** Retry settings as the front doors resolve them, with waits short enough for real timers. */
export function settings(options: RetryOptions = {}): ResolvedRetry {
  const retry = resolveOptions({
    retry: { baseDelay: 1, maxDelay: 2, jitter: 'none', ...options },
  }).retry
  if (retry === false) throw new Error('retry is on')
  return retry
}

type Step = Outcome | Error | (() => Promise<Outcome>)

/** A `next` that answers with each step in turn (the last one repeats) and records each call. */
export function script(...steps: Step[]) {
  const sent: Call[] = []
  const next: Next = async (call) => {
    sent.push(call)
    const step = steps[Math.min(sent.length, steps.length) - 1]
    if (typeof step === 'function') return step()
    if (step instanceof Error) throw step
    if (step === undefined) throw new Error('empty script')
    return step
  }
  return { next, sent }
}

export const netError = (code: string) =>
  new TypeError('fetch failed', { cause: Object.assign(new Error(code), { code }) })

/** An outcome whose body is live, and a flag that tells whether it was released. */
export function liveOutcome(status: number): { outcome: HttpOutcome; cancelled: () => boolean } {
  let cancelled = false
  const body = new ReadableStream<Uint8Array>({
    cancel() {
      cancelled = true
    },
  })
  return { outcome: { ...httpOutcome(status), body }, cancelled: () => cancelled }
}
