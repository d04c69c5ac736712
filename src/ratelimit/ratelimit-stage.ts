import type { Call } from '../core/call.js'
import type { StageContext } from '../core/context.js'
import { discard, type Outcome } from '../core/outcome.js'
import type { Stage } from '../core/stage.js'
import { classifyError, classifyOutcome } from '../retry/classify.js'
import { createAdmission } from './admission.js'
import { createCallBuckets } from './bucket-costs.js'
import type { BucketStore } from './bucket-store.js'
import { type Headroom, headroom } from './headroom.js'
import { MemoryBucketStore } from './memory-bucket-store.js'
import type { ResolvedBucket } from './options.js'
import { createServerFeedback } from './server-feedback.js'
import { createAdjust, createSettlement } from './settlement.js'

export interface RateLimitStage {
  readonly stage: Stage
  /** Adds `delta` tokens to a bucket's balance (negative: a debt), e.g. to reconcile an estimate. */
  adjust(name: string, key: string, delta: number): void
  /** When the call could start on its buckets, read from the store without taking anything. */
  headroom(call: Call): Promise<Headroom>
  close(): Promise<void>
}

// Classification is asked for the status and headers only: which statuses are retryable is
// the retry stage's business.
const noStatuses: ReadonlySet<number> = new Set()

/**
 * Takes every attempt's cost from all the buckets together (it sits below retry, so a retry
 * spends quota too), then learns from the answer.
 *
 * Before the attempt: the call's cost and key per bucket (`call.cost` overrides the buckets'
 * own cost), one `acquire` from the store. A granted call waits its start in arrival order
 * (`throttled`); one that cannot start within the buckets' `maxWait` (0 in `'reject'` mode) and
 * the call's deadline fails with `RateLimitError` (`rateLimited`), having cost nothing. A caller
 * that aborts while waiting, or a `close()`, gives its tokens back. The wait counts from the
 * store's decision; a call that finds its start gone by past the buckets' burst time (its
 * process stalled) takes a new turn (`lateStart`), the missed one spent.
 *
 * After it: a 429 pauses every bucket of the call for its `Retry-After` (`paused`), or for the
 * reset of a limit the headers report empty, at most `maxServerWaitMs`; rate-limit headers
 * lower the buckets that mirror the limits they name; `actualCost` settles the estimate.
 *
 * A bucket that holds spent budget in `maxKeys` partitions refuses a call with a new key
 * (`partitionsFull`, `partitionRejects`): forgetting another partition would let its limit
 * lapse, and holding more would grow memory without bound.
 *
 * A shared store that could not reach Redis says so (`degraded`): a decision its local share
 * made counts in `redisFallbacks` (`redisFallback`, part `'bucket'`); a refusal for that alone
 * (`redis.onError: 'reject'`) is a `RateLimitError` like any other.
 */
export function createRateLimitStage(
  ctx: StageContext,
  buckets: readonly ResolvedBucket[],
  given?: BucketStore,
): RateLimitStage {
  const store = given ?? new MemoryBucketStore({ clock: ctx.clock })
  const byName = new Map(buckets.map((b) => [b.name, b]))
  const requestsOf = createCallBuckets(buckets, byName)
  const admission = createAdmission(ctx, store, buckets, byName)
  const learn = createServerFeedback(ctx, store, buckets)
  const settle = createSettlement(store, buckets)

  const stage: Stage = async (call, next) => {
    const requests = requestsOf(call)
    await admission.admit(call, requests)
    let outcome: Outcome
    try {
      outcome = await next(call)
    } catch (error) {
      await learn(call, requests, classifyError(error, noStatuses))
      throw error
    }
    try {
      await learn(call, requests, classifyOutcome(outcome, noStatuses))
      return settle === undefined ? outcome : await settle(call, requests, outcome)
    } catch (error) {
      discard(outcome)
      throw error
    }
  }

  return {
    stage,
    adjust: createAdjust(store, byName),
    async headroom(call) {
      const requests = requestsOf(call)
      const balances = await Promise.all(requests.map((request) => store.balance(request)))
      return headroom(requests, balances)
    },
    async close() {
      admission.close()
      // A store handed in may serve others: its owner closes it.
      if (given === undefined) await store.close()
    },
  }
}
