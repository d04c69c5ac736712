import type { Call } from '../core/call.js'
import { eventBase, type StageContext } from '../core/context.js'
import { RateLimitError } from '../core/errors.js'
import type { CallBucket } from './bucket-costs.js'
import type { Acquired } from './bucket-store.js'
import type { ResolvedBucket } from './options.js'

/** A store's refusal of a call. */
export type Refused = Extract<Acquired, { granted: false }>

/** The tightest wait a stage's buckets allow (0 in `'reject'` mode), and the bucket that sets it. */
export interface WaitBound {
  readonly wait: number
  readonly bucket: ResolvedBucket
}

/** Why the call could not wait for its turn: the bound, or a nearer deadline. */
export interface RefusalCause {
  readonly bound: WaitBound
  /** The call's deadline came before the bound. */
  readonly byDeadline: boolean
  /** The wait the call was allowed, in ms. */
  readonly maxWait: number
}

/** Known once per stage: only the deadline changes per call. */
export function tightestWait(buckets: readonly ResolvedBucket[]): WaitBound {
  return buckets.reduce(
    (tightest, b) => {
      const wait = b.mode === 'reject' ? 0 : b.maxWait
      return wait < tightest.wait ? { wait, bucket: b } : tightest
    },
    { wait: Number.POSITIVE_INFINITY, bucket: buckets[0] as ResolvedBucket },
  )
}

/**
 * Counts and reports a refused call (`rateLimited`; `partitionsFull` as well when the bucket
 * had no room for a new partition) and returns the `RateLimitError` it fails with, its message
 * saying which bucket refused and why.
 */
export function refuse(
  ctx: StageContext,
  call: Call,
  bucket: ResolvedBucket,
  requests: readonly CallBucket[],
  refused: Refused,
  cause: RefusalCause,
): RateLimitError {
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
  const why = refusalReason(bucket, cost, refused, retryAfter, cause)
  ctx.counters.rateLimitRejects++
  if (ctx.events.wants('rateLimited')) {
    ctx.events.emit({ type: 'rateLimited', ...eventBase(call), bucket: bucket.name, retryAfter })
  }
  return new RateLimitError(`rate-limit bucket "${bucket.name}" ${why}`, retryAfter)
}

function refusalReason(
  bucket: ResolvedBucket,
  cost: number | undefined,
  refused: Refused,
  retryAfter: number,
  cause: RefusalCause,
): string {
  const { maxKeys } = refused
  if (refused.degraded?.by === 'reject') {
    return "could not be checked: its shared state on Redis is unavailable (redis.onError: 'reject')"
  }
  if (maxKeys !== undefined) {
    return `holds spent budget in all of its ${maxKeys} partitions (maxKeys), and this call's key is not one of them: a partition is full again in ${retryAfter} ms`
  }
  if (refused.exceedsCapacity) {
    return `can never admit this call: it costs ${cost}, above the bucket's capacity of ${bucket.capacity}`
  }
  return `could admit this call in ${retryAfter} ms, ${pastWhat(cause)}`
}

function pastWhat({ bound, byDeadline, maxWait }: RefusalCause): string {
  if (byDeadline) return `past the call's deadline (${Math.round(maxWait)} ms away)`
  if (bound.bucket.mode === 'reject') {
    return `and bucket "${bound.bucket.name}" does not wait (mode 'reject')`
  }
  return `past the maxWait of bucket "${bound.bucket.name}" (${bound.wait} ms)`
}
