import type { Call, CallDetails } from '../core/call.js'
import type { Outcome } from '../core/outcome.js'
import { show } from '../core/validate.js'
import type { BucketRequest } from './bucket-store.js'
import type { ResolvedBucket } from './options.js'

/** One bucket of a call, with all that the stage knows of the bucket. */
export interface CallBucket extends BucketRequest {
  readonly bucket: ResolvedBucket
}

/** The buckets of one stage by name, as `call.cost` and `adjust` name them. */
export type BucketsByName = ReadonlyMap<string, ResolvedBucket>

/**
 * Reads, per call, its cost and key in every bucket: `call.cost` (one number for all the
 * buckets, or one by bucket name) overrides a bucket's own `cost` of `call.details`. A name
 * that is no bucket's, or a cost that is not a finite number ≥ 0, throws before anything is
 * taken.
 */
export function createCallBuckets(
  buckets: readonly ResolvedBucket[],
  byName: BucketsByName,
): (call: Call) => CallBucket[] {
  return (call) => {
    const per = call.cost
    if (typeof per === 'object') checkNames(per, byName)
    return buckets.map((bucket) => {
      const cost = checkedCost(bucket, costIn(bucket, per, call.details))
      // Each target of a pool has buckets of its own, whatever the key function says.
      const own = bucket.key(call.details)
      return { bucket, key: call.via === undefined ? own : `${own} via ${call.via}`, cost }
    })
  }
}

/**
 * What a call really cost in `bucket`, by its `actualCost` hook; `undefined` keeps the
 * estimate. A hook that answers anything else than a finite number ≥ 0 or `undefined` throws.
 */
export function actualCostOf(
  bucket: ResolvedBucket,
  outcome: Outcome,
  details: CallDetails,
): number | undefined {
  const actual = bucket.actualCost?.(outcome, details)
  if (actual === undefined) return undefined
  if (!(Number.isFinite(actual) && actual >= 0)) {
    throw new TypeError(
      `rateLimit "${bucket.name}" actualCost must return a finite number ≥ 0 or undefined, got ${show(actual)}`,
    )
  }
  return actual
}

function checkNames(per: Readonly<Record<string, number>>, byName: BucketsByName): void {
  for (const name of Object.keys(per)) {
    if (!byName.has(name)) {
      throw new RangeError(`breakwater.cost names no rate-limit bucket: ${JSON.stringify(name)}`)
    }
  }
}

function costIn(bucket: ResolvedBucket, per: Call['cost'], details: CallDetails): number {
  if (typeof per === 'number') return per
  if (per !== undefined && Object.hasOwn(per, bucket.name)) return per[bucket.name] as number
  return bucket.cost(details)
}

function checkedCost(bucket: ResolvedBucket, cost: number): number {
  if (!(Number.isFinite(cost) && cost >= 0)) {
    throw new TypeError(
      `rateLimit "${bucket.name}" cost must be a finite number ≥ 0, got ${show(cost)}`,
    )
  }
  return cost
}
