import type { Call } from '../core/call.js'
import type { HttpOutcome, Outcome } from '../core/outcome.js'
import { show } from '../core/validate.js'
import { captureStream } from '../http/capture-stream.js'
import { actualCostOf, type BucketsByName, type CallBucket } from './bucket-costs.js'
import type { BucketStore } from './bucket-store.js'
import type { ResolvedBucket } from './options.js'

// Longest live body kept to settle its cost; a longer one keeps its estimate.
const maxSettleBytes = 8 * 1_048_576

/** Settles a call's estimated costs on its outcome; returns the outcome to pass on. */
export type Settlement = (
  call: Call,
  requests: readonly CallBucket[],
  outcome: Outcome,
) => Promise<Outcome>

/**
 * Each bucket's `actualCost` of the outcome and `call.details` settles its estimate: the
 * difference goes back to the bucket (or is taken from it) with `adjust`. `undefined` when no
 * bucket has an `actualCost`: there is nothing to settle.
 */
export function createSettlement(
  store: BucketStore,
  buckets: readonly ResolvedBucket[],
): Settlement | undefined {
  if (!buckets.some((b) => b.actualCost !== undefined)) return undefined
  return async (call, requests, outcome) => {
    if (outcome.kind === 'http' && outcome.body instanceof ReadableStream) {
      return settleLive(store, call, requests, outcome, outcome.body)
    }
    await reconcile(store, call, requests, outcome)
    return outcome
  }
}

/**
 * A live body (an event stream, a response nobody shares) holds its true cost (`usage`) only
 * at its end: the outcome goes on at once and is settled when its reader has read it whole.
 * One read to the end that never comes (a cancel) keeps the estimate.
 */
function settleLive(
  store: BucketStore,
  call: Call,
  requests: readonly CallBucket[],
  outcome: HttpOutcome,
  live: ReadableStream<Uint8Array>,
): Outcome {
  const body = captureStream(live, maxSettleBytes, (bytes) =>
    reconcile(store, call, requests, { ...outcome, body: bytes }).catch((error: unknown) => {
      process.emitWarning(`breakwater actualCost failed: ${String(error)}`, 'BreakwaterWarning')
    }),
  )
  return { ...outcome, body }
}

async function reconcile(
  store: BucketStore,
  call: Call,
  requests: readonly CallBucket[],
  outcome: Outcome,
): Promise<void> {
  for (const { bucket, key, cost } of requests) {
    const actual = actualCostOf(bucket, outcome, call.details)
    if (actual !== undefined && actual !== cost) await store.adjust({ bucket, key }, cost - actual)
  }
}

/**
 * The stage's `adjust`: a settlement by hand, e.g. of a cost known only later. Its arguments
 * are checked at once; the store's own failure is a warning, as nobody awaits it.
 */
export function createAdjust(
  store: BucketStore,
  byName: BucketsByName,
): (name: string, key: string, delta: number) => void {
  return (name, key, delta) => {
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
  }
}
