/**
 * A retry storm guard (after Finagle's RetryBudget): during an outage every call fails, and if
 * each retried three times the upstream would see four times its load just when it can least
 * bear it. Retries are held to a share of recent calls, with a small floor per second so that a
 * quiet client can still retry at all.
 */

/** Seconds the ratio is measured over. */
const windowSeconds = 10

export interface RetryBudgetSettings {
  /** Retries allowed as a share of the calls of the last 10 s. */
  readonly ratio: number
  /** Retries allowed in any one second, whatever the ratio. */
  readonly minPerSecond: number
}

/** One second of the window; a slot holding an older second is stale and gets reused. */
interface Slot {
  second: number
  calls: number
  retries: number
}

/**
 * Counts calls and retries in a fixed ring of ten one-second slots: constant memory, whatever
 * the traffic. Time comes from the caller, in ms.
 *
 * @example
 * const budget = new RetryBudget({ ratio: 0.2, minPerSecond: 10 })
 * budget.recordCall(clock.now())
 * if (budget.tryRetry(clock.now())) retryNow()
 */
export class RetryBudget {
  readonly #ratio: number
  readonly #minPerSecond: number
  readonly #slots: Slot[] = Array.from({ length: windowSeconds }, () => ({
    second: Number.NEGATIVE_INFINITY,
    calls: 0,
    retries: 0,
  }))

  constructor(settings: RetryBudgetSettings) {
    this.#ratio = settings.ratio
    this.#minPerSecond = settings.minPerSecond
  }

  /** Counts one call (not its retries) made at `now`. */
  recordCall(now: number): void {
    this.#slot(now).calls++
  }

  /** Spends one retry at `now` and returns true when the budget allows it; false otherwise. */
  tryRetry(now: number): boolean {
    const current = this.#slot(now)
    let calls = 0
    let retries = 0
    for (const slot of this.#slots) {
      // A clock that stepped back leaves slots "in the future": they are not counted.
      if (slot.second > current.second - windowSeconds && slot.second <= current.second) {
        calls += slot.calls
        retries += slot.retries
      }
    }
    const allowed = retries < this.#ratio * calls || current.retries < this.#minPerSecond
    if (allowed) current.retries++
    return allowed
  }

  /** The slot of `now`'s second, emptied first when it still counts an older second. */
  #slot(now: number): Slot {
    const second = Math.floor(now / 1_000)
    const index = ((second % windowSeconds) + windowSeconds) % windowSeconds
    const slot = this.#slots[index] as Slot
    if (slot.second !== second) {
      slot.second = second
      slot.calls = 0
      slot.retries = 0
    }
    return slot
  }
}
