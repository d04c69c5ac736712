import type { Call } from '../core/call.js'
import { eventBase, type StageContext } from '../core/context.js'
import { maxServerWaitMs } from '../core/validate.js'
import type { HeaderReader } from '../http/header-reader.js'
import type { Verdict } from '../retry/classify.js'
import { retryAfterDelay } from '../retry/retry-after.js'
import type { CallBucket } from './bucket-costs.js'
import type { BucketStore } from './bucket-store.js'
import { readServerQuotas, responseTime, type ServerQuotas } from './header-sync.js'
import type { ResolvedBucket } from './options.js'

/** Learns from an attempt's answer (or its error's status and headers). */
export type ServerFeedback = (
  call: Call,
  requests: readonly CallBucket[],
  verdict: Verdict,
) => Promise<void>

/**
 * What the server said goes into the buckets: a 429 pauses every bucket of the call for its
 * `Retry-After`, or for the reset of a limit the headers report empty, at most
 * `maxServerWaitMs` (`paused`); rate-limit headers lower the buckets that mirror the limits
 * they name (`serverLimit`), as of the response's `Date`, so that the store ignores a response
 * older than the last one it applied. An answer that is neither, to buckets that mirror none,
 * is not read at all.
 */
export function createServerFeedback(
  ctx: StageContext,
  store: BucketStore,
  buckets: readonly ResolvedBucket[],
): ServerFeedback {
  const syncing = buckets.some((b) => b.serverLimit !== undefined)
  return async (call, requests, verdict) => {
    const limited = verdict.status === 429
    if (!(limited || syncing)) return
    const now = ctx.clock.now()
    const quotas = readServerQuotas(verdict.header, now)
    if (limited) {
      await pauseBuckets(ctx, store, call, requests, serverPause(verdict.header, quotas, now))
    }
    await lowerBuckets(store, requests, quotas, verdict.header, now)
  }
}

/**
 * The retry gives up on a wait above its maxRetryAfter; the bucket holds the others back for at
 * most the cap, whatever the server said.
 */
function serverPause(header: HeaderReader, quotas: ServerQuotas, now: number): number | undefined {
  const asked = retryAfterDelay(header, now) ?? emptyReset(quotas)
  return asked === undefined ? undefined : Math.min(asked, maxServerWaitMs)
}

async function pauseBuckets(
  ctx: StageContext,
  store: BucketStore,
  call: Call,
  requests: readonly CallBucket[],
  pause: number | undefined,
): Promise<void> {
  if (pause === undefined || pause <= 0) return
  await store.pause(requests, pause)
  if (ctx.events.wants('paused')) {
    for (const { bucket } of requests) {
      ctx.events.emit({ type: 'paused', ...eventBase(call), bucket: bucket.name, pause })
    }
  }
}

async function lowerBuckets(
  store: BucketStore,
  requests: readonly CallBucket[],
  quotas: ServerQuotas,
  header: HeaderReader,
  now: number,
): Promise<void> {
  const updates = requests.flatMap(({ bucket, key }) => {
    const quota = bucket.serverLimit === undefined ? undefined : quotas[bucket.serverLimit]
    return quota === undefined ? [] : [{ bucket, key, remaining: quota.remaining }]
  })
  if (updates.length > 0) await store.lower(updates, responseTime(header, now))
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
