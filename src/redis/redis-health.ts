import { type BreakerPolicy, consecutiveFailures } from '../breaker/breaker-policy.js'
import type { Admission, BreakerState } from '../breaker/breaker-state.js'
import type { StageContext } from '../core/context.js'

/**
 * Failed operations that mark Redis down: one. A call makes several Redis operations (read,
 * lease, write); were each allowed to time out, one call would pay the timeout several times.
 */
const failureThreshold = 1
/** ms Redis stays marked down before one operation probes it again. */
export const probeAfter = 1_000

/**
 * Whether Redis is up, as the operations of one connection found it: a breaker of its own, with
 * the stage's policy, so that once Redis is marked down an operation fails at once and one
 * operation a second probes whether it is back. Reports `redisDown` and `redisUp`.
 */
export class RedisHealth {
  readonly #ctx: StageContext
  readonly #policy: BreakerPolicy = consecutiveFailures({
    failureThreshold,
    halfOpenAfter: probeAfter,
  })
  #state: BreakerState = this.#policy.initial
  #downSince = 0

  constructor(ctx: StageContext) {
    this.#ctx = ctx
  }

  /** True while Redis is marked down: operations fail at once, apart from a probe a second. */
  get down(): boolean {
    return this.#state.name !== 'closed'
  }

  /** Whether an operation may go now, and whether it is the probe. */
  admit(): Admission {
    const admission = this.#policy.admit(this.#state, this.#ctx.clock.now())
    this.#state = admission.state
    return admission
  }

  /** Redis answered an operation (`probe` as `admit` said), an error reply included. */
  answered(probe: boolean): void {
    const { events, clock } = this.#ctx
    const before = this.#state
    const after = this.#policy.onSuccess(before, clock.now(), probe)
    this.#state = after
    if (before.name === 'closed' || after.name !== 'closed') return
    if (events.wants('redisUp')) {
      events.emit({ type: 'redisUp', downFor: clock.now() - this.#downSince })
    }
  }

  /** An operation failed on the connection, timed out, or had an unhealthy reply. */
  failed(error: unknown, probe: boolean): void {
    const { events, clock } = this.#ctx
    const before = this.#state
    const after = this.#policy.onFailure(before, clock.now(), probe)
    this.#state = after
    // A failed probe reopens the breaker each second; only the first opening is news.
    if (before.name !== 'closed' || after.name !== 'open') return
    this.#downSince = clock.now()
    if (events.wants('redisDown')) events.emit({ type: 'redisDown', error })
  }
}
