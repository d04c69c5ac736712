import pLimit, { type LimitFunction } from 'p-limit'
import type { Call } from '../core/call.js'
import type { Timers } from '../core/clock.js'
import type { StageContext } from '../core/context.js'
import { TimeoutError } from '../core/errors.js'
import type { Outcome } from '../core/outcome.js'
import type { Next, Stage } from '../core/stage.js'
import { maxTimerMs } from '../core/validate.js'
import type { ResolvedConcurrency } from './options.js'

interface Keyed {
  readonly limit: LimitFunction
  /** Calls holding or waiting for a slot of this limiter. */
  users: number
}

/**
 * Caps upstream attempts in flight at `limit`, through p-limit, one limiter for all or one per
 * `key(call)`. Each attempt takes a slot (a retry waits for one again), and waiters are served
 * in arrival order.
 *
 * p-limit takes no signal, so a waiter is wrapped: when the caller aborts or the call's deadline
 * passes, it rejects at once (the abort reason, or a `TimeoutError`) and, when its turn comes,
 * gives the slot straight back without sending anything.
 */
export function createConcurrencyStage(ctx: StageContext, concurrency: ResolvedConcurrency): Stage {
  const { limit, key } = concurrency
  if (key === undefined) {
    const shared = pLimit(limit)
    return (call, next) => admit(shared, call, next, ctx)
  }
  // A limiter lives while calls use it: evicting one in use (as an LRU bound would) would let
  // its key run past the limit, and keeping idle ones would grow with every key ever seen.
  const limiters = new Map<string, Keyed>()
  return async (call, next) => {
    const name = key(call.details)
    let keyed = limiters.get(name)
    if (keyed === undefined) {
      keyed = { limit: pLimit(limit), users: 0 }
      limiters.set(name, keyed)
    }
    keyed.users++
    try {
      return await admit(keyed.limit, call, next, ctx)
    } finally {
      if (--keyed.users === 0) limiters.delete(name)
    }
  }
}

function admit(limit: LimitFunction, call: Call, next: Next, ctx: StageContext): Promise<Outcome> {
  const { signal, deadline } = call
  if (signal?.aborted) return Promise.reject(signal.reason)
  // A free slot: nothing to wait for, so nothing to watch.
  if (limit.activeCount < limit.concurrency) return limit(next, call)
  const left = deadline === undefined ? Number.POSITIVE_INFINITY : deadline - ctx.clock.now()
  if (left <= 0) return Promise.reject(slotTimeout(0))

  return new Promise<Outcome>((resolve, reject) => {
    let waiting = true
    const leave = (error: unknown) => {
      if (!waiting) return
      stopWaiting()
      reject(error)
    }
    const onAbort = () => leave(signal?.reason)
    const timer = slotTimer(ctx.timers, left, () => leave(slotTimeout(left)))
    const stopWaiting = () => {
      waiting = false
      if (timer !== undefined) ctx.timers.clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
    }
    signal?.addEventListener('abort', onAbort, { once: true })
    // Async, so that a throw of `next` becomes this caller's rejection and the promise p-limit
    // returns (which nobody reads) never rejects.
    limit(async () => {
      if (!waiting) return
      stopWaiting()
      try {
        resolve(await next(call))
      } catch (error) {
        reject(error)
      }
    })
  })
}

/** The timer of a wait that may last `left` ms; none when a timer cannot hold that long. */
function slotTimer(timers: Timers, left: number, onTimeout: () => void): unknown {
  // A wait longer than a timer can hold is no limit at all.
  return left <= maxTimerMs ? timers.setTimeout(onTimeout, left) : undefined
}

function slotTimeout(waited: number): TimeoutError {
  return new TimeoutError(waited, 'wait for a concurrency slot (call deadline)')
}
