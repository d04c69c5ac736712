import type { Call } from '../core/call.js'
import { eventBase, reportFallback, type StageContext } from '../core/context.js'
import { RateLimitError } from '../core/errors.js'
import { discard, type HttpOutcome, type Outcome } from '../core/outcome.js'
import type { Stage } from '../core/stage.js'
import { maxServerWaitMs, show } from '../core/validate.js'
import { captureStream } from '../http/capture-stream.js'
import { classifyError, classifyOutcome, type Verdict } from '../retry/classify.js'
import { retryAfterDelay } from '../retry/retry-after.js'
import type { Acquired, BucketRequest, BucketStore, Reservation } from './bucket-store.js'
import { readServerQuotas, responseTime, type ServerQuotas } from './header-sync.js'
import { MemoryBucketStore } from './memory-bucket-store.js'
import type { ResolvedBucket } from './options.js'
import { createWaitRoom } from './wait-room.js'

export interface RateLimitStage {
  readonly stage: Stage
  /** Adds `delta` tokens to a bucket's balance (negative: a debt), e.g. to reconcile an estimate. */
  adjust(name: string, key: string, delta: number): void
  close(): Promise<void>
}

// Longest live body kept to settle its cost; a longer one keeps its estimate.
const maxSettleBytes = 8 * 1_048_576

// Classification is asked for the status and headers only: which statuses are retryable is
// the retry stage's business.
const noStatuses: ReadonlySet<number> = new Set()

/** One bucket of a call, with all that the stage knows of the bucket. */
interface CallBucket extends BucketRequest {
  readonly bucket: ResolvedBucket
}

/**
 * Takes every attempt's cost from all the buckets together (it sits below retry, so a retry
 * spends quota too), then learns from the answer.
 *
 * Before the attempt: the call's cost and key per bucket (`call.cost` overrides the buckets'
 * own cost), one `acquire` from the store. A granted call waits its start in arrival order
 * (`throttled`); one that cannot start within the buckets' `maxWait` (0 in `'reject'` mode) and
 * the call's deadline fails with `RateLimitError` (`rateLimited`), having cost nothing. A caller
 * that aborts while waiting, or a `close()`, gives its tokens back.
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
  const syncing = buckets.some((b) => b.serverLimit !== undefined)
  const reconciling = buckets.some((b) => b.actualCost !== undefined)
  // The tightest wait the buckets allow, known once: only the deadline changes per call.
  const bound = buckets.reduce(
    (tightest, b) => {
      const wait = b.mode === 'reject' ? 0 : b.maxWait
      return wait < tightest.wait ? { wait, bucket: b } : tightest
    },
    { wait: Number.POSITIVE_INFINITY, bucket: buckets[0] as ResolvedBucket },
  )
  const room = createWaitRoom()

  function requestsOf(call: Call): CallBucket[] {
    const per = call.cost
    if (typeof per === 'object') {
      for (const name of Object.keys(per)) {
        if (!byName.has(name)) {
          throw new RangeError(
            `breakwater.cost names no rate-limit bucket: ${JSON.stringify(name)}`,
          )
        }
      }
    }
    return buckets.map((bucket) => {
      const cost =
        typeof per === 'number'
          ? per
          : per !== undefined && Object.hasOwn(per, bucket.name)
            ? (per[bucket.name] as number)
            : bucket.cost(call.details)
      if (!(Number.isFinite(cost) && cost >= 0)) {
        throw new TypeError(
          `rateLimit "${bucket.name}" cost must be a finite number ≥ 0, got ${show(cost)}`,
        )
      }
      return { bucket, key: bucket.key(call.details), cost }
    })
  }

  async function admit(call: Call, requests: readonly CallBucket[]): Promise<void> {
    call.signal?.throwIfAborted()
    const now = ctx.clock.now()
    const left = call.deadline === undefined ? Number.POSITIVE_INFINITY : call.deadline - now
    const maxWait = Math.max(0, Math.min(bound.wait, left))
    const acquired = await store.acquire(requests, maxWait)
    if (acquired.degraded?.by === 'fallback') fellBack(call, acquired.degraded.error)
    if (!acquired.granted) throw refuse(call, requests, acquired, left < bound.wait, maxWait)
    if (acquired.wait <= 0) return settleAbort(call, acquired.reservation)
    // Timers count whole ms: rounding up never starts a call before its granted time.
    const wait = Math.ceil(acquired.wait)
    ctx.counters.throttled++
    if (ctx.events.wants('throttled')) {
      ctx.events.emit({ type: 'throttled', ...eventBase(call), bucket: acquired.bucket, wait })
    }
    try {
      await room.wait(wait, call.signal)
    } catch (reason) {
      await store.refund(acquired.reservation)
      throw reason
    }
  }

  // The caller may have aborted while the store decided: its tokens go back at once.
  async function settleAbort(call: Call, reservation: Reservation): Promise<void> {
    if (!call.signal?.aborted) return
    await store.refund(reservation)
    throw call.signal.reason
  }

  function fellBack(call: Call, error: unknown): void {
    reportFallback(ctx, call, 'bucket', error)
  }

  function refuse(
    call: Call,
    requests: readonly CallBucket[],
    refused: Extract<Acquired, { granted: false }>,
    byDeadline: boolean,
    maxWait: number,
  ): RateLimitError {
    const bucket = byName.get(refused.bucket) as ResolvedBucket
    const retryAfter = Math.ceil(refused.retryAfter)
    const cost = requests.find((r) => r.bucket === bucket)?.cost
    const { maxKeys } = refused
    if (maxKeys !== undefined) {
      ctx.counters.partitionRejects++
      if (ctx.events.wants('partitionsFull')) {
        ctx.events.emit({
          type: 'partitionsFull',
          ...eventBase(call),
          bucket: bucket.name,
          maxKeys,
          retryAfter,
        })
      }
    }
    const why =
      refused.degraded?.by === 'reject'
        ? "could not be checked: its shared state on Redis is unavailable (redis.onError: 'reject')"
        : maxKeys !== undefined
          ? `holds spent budget in all of its ${maxKeys} partitions (maxKeys), and this call's key is not one of them: a partition is full again in ${retryAfter} ms`
          : refused.exceedsCapacity
            ? `can never admit this call: it costs ${cost}, above the bucket's capacity of ${bucket.capacity}`
            : `could admit this call in ${retryAfter} ms, ${
                byDeadline
                  ? `past the call's deadline (${Math.round(maxWait)} ms away)`
                  : bound.bucket.mode === 'reject'
                    ? `and bucket "${bound.bucket.name}" does not wait (mode 'reject')`
                    : `past the maxWait of bucket "${bound.bucket.name}" (${bound.wait} ms)`
              }`
    ctx.counters.rateLimitRejects++
    if (ctx.events.wants('rateLimited')) {
      ctx.events.emit({ type: 'rateLimited', ...eventBase(call), bucket: bucket.name, retryAfter })
    }
    return new RateLimitError(`rate-limit bucket "${bucket.name}" ${why}`, retryAfter)
  }

  async function learn(call: Call, requests: readonly CallBucket[], verdict: Verdict) {
    const limited = verdict.status === 429
    if (!(limited || syncing)) return
    const now = ctx.clock.now()
    const quotas = readServerQuotas(verdict.header, now)
    const asked = limited ? (retryAfterDelay(verdict.header, now) ?? emptyReset(quotas)) : undefined
    // The retry gives up on a wait above its maxRetryAfter; the bucket holds the others back for
    // at most the cap, whatever the server said.
    const pause = asked === undefined ? undefined : Math.min(asked, maxServerWaitMs)
    if (pause !== undefined && pause > 0) {
      await store.pause(requests, pause)
      if (ctx.events.wants('paused')) {
        for (const { bucket } of requests) {
          ctx.events.emit({ type: 'paused', ...eventBase(call), bucket: bucket.name, pause })
        }
      }
    }
    const updates = requests.flatMap(({ bucket, key }) => {
      const quota = bucket.serverLimit === undefined ? undefined : quotas[bucket.serverLimit]
      return quota === undefined ? [] : [{ bucket, key, remaining: quota.remaining }]
    })
    if (updates.length > 0) await store.lower(updates, responseTime(verdict.header, now))
  }

  /**
   * A live body (an event stream, a response nobody shares) holds its true cost (`usage`) only
   * at its end: the outcome goes on at once and is settled when its reader has read it whole.
   * One read to the end that never comes (a cancel) keeps the estimate.
   */
  function settle(
    call: Call,
    requests: readonly CallBucket[],
    outcome: HttpOutcome,
    live: ReadableStream<Uint8Array>,
  ): Outcome {
    const body = captureStream(live, maxSettleBytes, (bytes) =>
      reconcile(call, requests, { ...outcome, body: bytes }).catch((error: unknown) => {
        process.emitWarning(`breakwater actualCost failed: ${String(error)}`, 'BreakwaterWarning')
      }),
    )
    return { ...outcome, body }
  }

  async function reconcile(call: Call, requests: readonly CallBucket[], outcome: Outcome) {
    for (const { bucket, key, cost } of requests) {
      const actual = bucket.actualCost?.(outcome, call.details)
      if (actual === undefined) continue
      if (!(Number.isFinite(actual) && actual >= 0)) {
        throw new TypeError(
          `rateLimit "${bucket.name}" actualCost must return a finite number ≥ 0 or undefined, got ${show(actual)}`,
        )
      }
      if (actual !== cost) await store.adjust({ bucket, key }, cost - actual)
    }
  }

  const stage: Stage = async (call, next) => {
    const requests = requestsOf(call)
    await admit(call, requests)
    let outcome: Outcome
    try {
      outcome = await next(call)
    } catch (error) {
      await learn(call, requests, classifyError(error, noStatuses))
      throw error
    }
    try {
      await learn(call, requests, classifyOutcome(outcome, noStatuses))
      if (reconciling) {
        if (outcome.kind === 'http' && outcome.body instanceof ReadableStream) {
          return settle(call, requests, outcome, outcome.body)
        }
        await reconcile(call, requests, outcome)
      }
    } catch (error) {
      discard(outcome)
      throw error
    }
    return outcome
  }

  return {
    stage,
    adjust(name, key, delta) {
      const bucket = byName.get(name)
      if (bucket === undefined) {
        throw new RangeError(`adjust: no rate-limit bucket is named ${JSON.stringify(name)}`)
      }
      if (!Number.isFinite(delta)) {
        throw new RangeError(`adjust: delta must be a finite number, got ${show(delta)}`)
      }
      store.adjust({ bucket, key }, delta).catch((error: unknown) => {
        process.emitWarning(`breakwater adjust failed: ${String(error)}`, 'BreakwaterWarning')
      })
    },
    async close() {
      room.close(
        new DOMException(
          'breakwater closed while the call waited for rate-limit tokens',
          'AbortError',
        ),
      )
      // A store handed in may serve others: its owner closes it.
      if (given === undefined) await store.close()
    },
  }
}

/**
 * A 429 without Retry-After: when a limit the server reports is empty, its reset is the
 * server's own word on when calls may pass again (the SDKs' proposal in
 * anthropic-sdk-typescript#357).
 */
function emptyReset(quotas: ServerQuotas): number | undefined {
  let reset: number | undefined
  for (const quota of Object.values(quotas)) {
    if (quota.remaining < 1 && quota.resetMs !== undefined) {
      reset = Math.max(reset ?? 0, quota.resetMs)
    }
  }
  return reset
}
