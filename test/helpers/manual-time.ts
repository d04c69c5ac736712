import { Agent, fetch as undiciFetch } from 'undici'
import type { Clock, Timers } from '../../src/core/clock.js'
import type { FetchLike, ResponseLike } from '../../src/transport/fetch-transport.js'

// Taken at import, before any test fakes the globals: the helper's own yields stay real.
const realSetImmediate = setImmediate

/** Lets every queued microtask run, and whatever they queue in turn, then returns. */
export const flushMicrotasks = (): Promise<void> =>
  new Promise((resolve) => realSetImmediate(resolve))

/**
 * A clock and timers that move only when the test says: give the same object as `clock` and
 * `timers`. Nothing waits on the wall clock, so a test of waiting asserts exact times.
 */
export interface ManualTime extends Clock, Timers {
  now(): number
  /**
   * Moves the clock on by `ms`, running the timers that fall due in order of their due time
   * (then of their setting), each at its own time. Before each timer and at the end it awaits
   * `settle`, by default the microtasks, as `vi.advanceTimersByTimeAsync` does; a test with
   * real sockets passes one that also waits for them (see `trackFetch`), so that nothing is on
   * the wire while the clock moves.
   */
  advance(ms: number, settle?: () => Promise<void>): Promise<void>
  /** Timers set and not yet run or cleared. */
  readonly pending: number
}

interface Timer {
  readonly due: number
  readonly order: number
  readonly fn: () => void
}

/** Manual time starting at `start` ms. */
export function createManualTime(start = 1_000_000): ManualTime {
  let now = start
  let order = 0
  const timers = new Set<Timer>()
  const nextDue = (until: number): Timer | undefined => {
    let first: Timer | undefined
    for (const t of timers) {
      if (t.due > until) continue
      if (
        first === undefined ||
        t.due < first.due ||
        (t.due === first.due && t.order < first.order)
      )
        first = t
    }
    return first
  }
  return {
    now: () => now,
    setTimeout(fn, ms) {
      // As Node does: a negative, NaN or missing delay is as soon as possible.
      const delay = Number.isFinite(ms) && ms > 0 ? ms : 0
      const timer: Timer = { due: now + delay, order: order++, fn }
      timers.add(timer)
      return timer
    },
    clearTimeout(handle) {
      timers.delete(handle as Timer)
    },
    async advance(ms, settle = flushMicrotasks) {
      if (!(ms >= 0)) throw new RangeError(`advance takes ms ≥ 0, got ${ms}`)
      const until = now + ms
      for (;;) {
        await settle()
        const timer = nextDue(until)
        if (timer === undefined) break
        timers.delete(timer)
        now = Math.max(now, timer.due)
        timer.fn()
      }
      now = until
      await settle()
    },
    get pending() {
      return timers.size
    },
  }
}

/** A stream of `bytes` whose reads resolve as microtasks, never later. */
const streamOf = (bytes: Uint8Array): ReadableStream<Uint8Array> =>
  new ReadableStream({
    start(controller) {
      controller.enqueue(bytes)
      controller.close()
    },
  })

/** A fetch whose every exchange a test can wait out, for driving manual time over sockets. */
export interface TrackedFetch {
  /** Pass as `createFetch({ fetch })`: undici's fetch that reads each answer whole. */
  readonly fetch: FetchLike
  /** Exchanges begun so far. */
  readonly sent: number
  /** Resolves once no exchange is on the wire and the microtasks they led to have run. */
  settle(): Promise<void>
  /** Closes its connections. */
  close(): Promise<void>
}

/**
 * Undici's fetch on an agent of its own that reads the body before it answers, so that "on the
 * wire" ends when the transport has everything. With manual time, `advance(ms, tracked.settle)`
 * moves the clock only between exchanges: a request is stamped with the time it was sent at.
 */
export function trackFetch(): TrackedFetch {
  const agent = new Agent()
  let sent = 0
  let onWire = 0
  const quiet: (() => void)[] = []
  const done = () => {
    if (--onWire > 0) return
    for (const resolve of quiet.splice(0)) resolve()
  }
  const fetch: FetchLike = async (input, init) => {
    sent++
    onWire++
    try {
      const response = await undiciFetch(input, { ...init, dispatcher: agent })
      const empty = response.body === null
      const bytes = await response.arrayBuffer()
      const whole: ResponseLike = {
        status: response.status,
        statusText: response.statusText,
        url: response.url,
        headers: response.headers,
        // Not `Blob.stream()`: on Node 24 its reads take a turn of the event loop each, so the
        // call would still be running when `settle` says all is quiet.
        body: empty ? null : streamOf(new Uint8Array(bytes)),
        arrayBuffer: async () => bytes,
      }
      return whole
    } finally {
      done()
    }
  }
  return {
    fetch,
    get sent() {
      return sent
    },
    async settle() {
      await flushMicrotasks()
      while (onWire > 0) {
        await new Promise<void>((resolve) => quiet.push(resolve))
        await flushMicrotasks()
      }
    },
    close: () => agent.close(),
  }
}
