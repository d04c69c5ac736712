import type { Call } from '../core/call.js'
import { eventBase, reportFallback, type StageContext } from '../core/context.js'
import type { BucketsByName, CallBucket } from './bucket-costs.js'
import type { BucketStore, Reservation } from './bucket-store.js'
import { createReadLags, lateBound, lateness } from './late-start.js'
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

// Turns a call may take again after missing its start, before it goes late all the same.
const maxMissed = 3

/**
 * One `acquire` per attempt, allowed to wait the tightest of the buckets' `maxWait` and the
 * call's deadline. A granted call waits in the wait room (`throttled`); a decision the local
 * share made while Redis was away is reported with the call (`redisFallback`). A call that
 * finds its granted start gone by more than `lateBound` (its process stalled while it asked or
 * while it waited) takes a new turn (`lateStart`), up to `maxMissed` times.
 */
export function createAdmission(
  ctx: StageContext,
  store: BucketStore,
  buckets: readonly ResolvedBucket[],
  byName: BucketsByName,
): Admission {
  const bound = tightestWait(buckets)
  const room = createWaitRoom(ctx.timers)
  const missedAfter = lateBound(buckets)
  const lags = createReadLags()

  async function admit(call: Call, requests: readonly CallBucket[]): Promise<void> {
    call.signal?.throwIfAborted()
    for (let missed = 0; ; missed++) {
      const askedAt = ctx.clock.now()
      const left = call.deadline === undefined ? Number.POSITIVE_INFINITY : call.deadline - askedAt
      const maxWait = Math.max(0, Math.min(bound.wait, left))
      const acquired = await store.acquire(requests, maxWait)
      const readAt = ctx.clock.now()
      if (acquired.degraded?.by === 'fallback') {
        reportFallback(ctx, call, 'bucket', acquired.degraded.error)
      }
      if (!acquired.granted) {
        const bucket = byName.get(acquired.bucket) as ResolvedBucket
        const cause = { bound, byDeadline: left < bound.wait, maxWait }
        throw refuse(ctx, call, bucket, requests, acquired, cause)
      }
      // The wait counts from the decision: an answer read late has less of it left.
      const decidedAt = decisionTime(acquired.decidedAt, readAt, askedAt)
      const waitLeft = decidedAt + acquired.wait - readAt
      if (acquired.wait > 0) countThrottled(call, acquired.bucket, waitLeft)
      if (waitLeft <= 0) await settleAbort(store, call, acquired.reservation)
      else await waitStart(call, waitLeft, acquired.reservation)
      const late = lateness(ctx.clock.now(), decidedAt, acquired.wait)
      // A process that misses every start (stalled more than it runs) must not spend its
      // share of the budget on turns it never takes: past `maxMissed`, the call goes late.
      if (late <= missedAfter || missed >= maxMissed) return
      // Its start has gone by: the calls granted after it went on time, and this one would land
      // on top of them. It takes its turn again. Its tokens stay spent: given back, they would
      // let the next calls in on top of those already granted, a burst of their own.
      ctx.counters.lateStarts++
      if (ctx.events.wants('lateStart')) {
        ctx.events.emit({ type: 'lateStart', ...eventBase(call), late: Math.round(late) })
      }
    }
  }

  /**
   * When the store decided, on this process's clock: between the ask and the answer whatever
   * the lags say, so that a step of either clock never starts a call before its time.
   */
  function decisionTime(storeTime: number | undefined, readAt: number, askedAt: number): number {
    if (storeTime === undefined) return readAt
    const mapped = storeTime + lags.note(readAt - storeTime, askedAt)
    return Math.min(readAt, Math.max(askedAt, mapped))
  }

  function countThrottled(call: Call, bucket: string, waitLeft: number): void {
    ctx.counters.throttled++
    if (ctx.events.wants('throttled')) {
      const wait = Math.max(0, Math.ceil(waitLeft))
      ctx.events.emit({ type: 'throttled', ...eventBase(call), bucket, wait })
    }
  }

  async function waitStart(call: Call, ms: number, reservation: Reservation): Promise<void> {
    try {
      // Timers count whole ms: rounding up never starts a call before its granted time.
      await room.wait(Math.ceil(ms), call.signal)
    } catch (reason) {
      await store.refund(reservation)
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
