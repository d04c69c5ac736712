import type { Call } from '../core/call.js'
import { eventBase, reportFallback, type StageContext } from '../core/context.js'
import type { BucketsByName, CallBucket } from './bucket-costs.js'
import type { BucketStore, Reservation } from './bucket-store.js'
import type { ResolvedBucket } from './options.js'
import { refuse, tightestWait } from './refusal.js'
import { createWaitRoom } from './wait-room.js'

/** Lets each attempt in, or not, before it goes on down the chain. */
export interface Admission {
  /**
   * Takes the call's cost from all its buckets together and waits for its granted start, or
   * throws: `RateLimitError` when it cannot start in time, the abort's reason when its caller
   * gives up (its tokens then go back).
   */
  admit(call: Call, requests: readonly CallBucket[]): Promise<void>
  /** Ends every wait, and every later one, with an `AbortError`. */
  close(): void
}

/**
 * One `acquire` per attempt, allowed to wait the tightest of the buckets' `maxWait` and the
 * call's deadline. A granted call waits in the wait room (`throttled`); a decision the local
 * share made while Redis was away is reported with the call (`redisFallback`).
 */
export function createAdmission(
  ctx: StageContext,
  store: BucketStore,
  buckets: readonly ResolvedBucket[],
  byName: BucketsByName,
): Admission {
  const bound = tightestWait(buckets)
  const room = createWaitRoom(ctx.timers)

  async function admit(call: Call, requests: readonly CallBucket[]): Promise<void> {
    call.signal?.throwIfAborted()
    const now = ctx.clock.now()
    const left = call.deadline === undefined ? Number.POSITIVE_INFINITY : call.deadline - now
    const maxWait = Math.max(0, Math.min(bound.wait, left))
    const acquired = await store.acquire(requests, maxWait)
    if (acquired.degraded?.by === 'fallback') {
      reportFallback(ctx, call, 'bucket', acquired.degraded.error)
    }
    if (!acquired.granted) {
      const bucket = byName.get(acquired.bucket) as ResolvedBucket
      const cause = { bound, byDeadline: left < bound.wait, maxWait }
      throw refuse(ctx, call, bucket, requests, acquired, cause)
    }
    if (acquired.wait <= 0) return settleAbort(store, call, acquired.reservation)
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

  return {
    admit,
    close() {
      room.close(
        new DOMException(
          'breakwater closed while the call waited for rate-limit tokens',
          'AbortError',
        ),
      )
    },
  }
}

// The caller may have aborted while the store decided: its tokens go back at once.
async function settleAbort(
  store: BucketStore,
  call: Call,
  reservation: Reservation,
): Promise<void> {
  if (!call.signal?.aborted) return
  await store.refund(reservation)
  throw call.signal.reason
}
