import { discard, type Outcome } from '../core/outcome.js'

/** What one caller of `SingleFlight.run` gets. */
export interface FlightResult {
  readonly outcome: Outcome
  /** The caller joined a flight another caller had started. */
  readonly joined: boolean
}

interface Waiter {
  readonly joined: boolean
  resolve(result: FlightResult): void
  reject(error: unknown): void
}

interface Flight {
  readonly controller: AbortController
  readonly waiters: Set<Waiter>
}

/**
 * Gives each waiter an outcome of its own. Complete bodies and values are shared as they are
 * (front doors copy them per caller), but a live stream can be read once, so it is teed, with
 * the same buffering as `Response.clone()`: a branch nobody reads holds what the others read.
 */
function shareOut(outcome: Outcome, count: number): Outcome[] {
  if (outcome.kind === 'value' || !(outcome.body instanceof ReadableStream) || count < 2) {
    return Array.from({ length: count }, () => outcome)
  }
  const shares: Outcome[] = []
  let rest = outcome.body
  for (let i = 1; i < count; i++) {
    const [mine, others] = rest.tee()
    shares.push({ ...outcome, body: mine })
    rest = others
  }
  shares.push({ ...outcome, body: rest })
  return shares
}

/**
 * Runs one upstream call per key however many identical calls arrive while it is in flight.
 *
 * Callers are counted: one caller's abort rejects that caller alone, and the flight itself is
 * aborted only when the last caller leaves (lru-cache's `fetch` does the opposite: the first
 * caller's abort fails everyone). The flight runs on a signal of its own, never a caller's.
 *
 * @example
 * const flights = new SingleFlight()
 * const { outcome } = await flights.run(key, signal, (flightSignal) => send(flightSignal))
 */
export class SingleFlight {
  // Bounded because keys come from user input: past the bound a new flight still runs for its
  // caller, it is only not joinable. A plain Map, not an LRU: lru-cache resets its whole
  // preallocated index when its last entry goes, and a flight map empties after every flight.
  readonly #flights = new Map<string, Flight>()
  readonly #maxKeys: number

  /** @param maxKeys Most distinct keys in flight at once that new callers can join. */
  constructor(maxKeys = 10_000) {
    this.#maxKeys = maxKeys
  }

  /** Keys in flight now; 0 when nothing is. */
  get size(): number {
    return this.#flights.size
  }

  /**
   * Joins the flight for `key`, or starts it with `start`. Resolves with the flight's outcome,
   * rejects with its error, or with `callerSignal.reason` as soon as that signal aborts.
   * `onJoin` is called, before this returns, with the number of callers now sharing the flight
   * when this caller joined one already in flight.
   */
  run(
    key: string,
    callerSignal: AbortSignal | undefined,
    start: (signal: AbortSignal) => Promise<Outcome>,
    onJoin?: (waiters: number) => void,
  ): Promise<FlightResult> {
    if (callerSignal?.aborted) return Promise.reject(callerSignal.reason)
    const existing = this.#flights.get(key)
    const flight = existing ?? this.#start(key, start)
    const result = this.#wait(key, flight, callerSignal, existing !== undefined)
    if (existing !== undefined) onJoin?.(flight.waiters.size)
    return result
  }

  #start(key: string, start: (signal: AbortSignal) => Promise<Outcome>): Flight {
    const flight: Flight = { controller: new AbortController(), waiters: new Set() }
    if (this.#flights.size < this.#maxKeys) this.#flights.set(key, flight)
    // The executor turns a synchronous throw of `start` into a rejection; both handlers are
    // attached at once, so a failure after every caller has left is never unhandled.
    new Promise<Outcome>((resolve) => resolve(start(flight.controller.signal))).then(
      (outcome) => {
        const waiters = this.#end(key, flight)
        if (waiters.length === 0) return discard(outcome)
        const shares = shareOut(outcome, waiters.length)
        waiters.forEach((waiter, i) => {
          waiter.resolve({ outcome: shares[i] as Outcome, joined: waiter.joined })
        })
      },
      (error: unknown) => {
        for (const waiter of this.#end(key, flight)) waiter.reject(error)
      },
    )
    return flight
  }

  /** Forgets the flight and hands back the callers still waiting on it. */
  #end(key: string, flight: Flight): Waiter[] {
    // A flight past the bound was never in the map; another may hold its key.
    if (this.#flights.get(key) === flight) this.#flights.delete(key)
    const waiters = [...flight.waiters]
    flight.waiters.clear()
    return waiters
  }

  #wait(
    key: string,
    flight: Flight,
    callerSignal: AbortSignal | undefined,
    joined: boolean,
  ): Promise<FlightResult> {
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        if (!flight.waiters.delete(waiter)) return
        const reason = callerSignal?.reason
        reject(reason)
        if (flight.waiters.size > 0) return
        this.#end(key, flight)
        flight.controller.abort(reason)
      }
      const waiter: Waiter = {
        joined,
        resolve: (result) => {
          callerSignal?.removeEventListener('abort', onAbort)
          resolve(result)
        },
        reject: (error) => {
          callerSignal?.removeEventListener('abort', onAbort)
          reject(error)
        },
      }
      flight.waiters.add(waiter)
      callerSignal?.addEventListener('abort', onAbort, { once: true })
    })
  }
}
