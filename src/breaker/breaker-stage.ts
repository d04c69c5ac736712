import { LRUCache } from 'lru-cache'
import type { Call } from '../core/call.js'
import type { StageContext } from '../core/context.js'
import { eventBase } from '../core/context.js'
import { CircuitOpenError, isInvalidResponseError, isRateLimitError } from '../core/errors.js'
import type { Outcome } from '../core/outcome.js'
import type { Stage } from '../core/stage.js'
import { type BreakerPolicy, consecutiveFailures } from './breaker-policy.js'
import type { BreakerState } from './breaker-state.js'
import type { ResolvedBreaker } from './options.js'

/** Scopes come from user input (hosts, a user's scope function), so their number is capped. */
const maxScopes = 1_000

type Verdict = 'success' | 'failure' | 'inconclusive'

/** 5xx and 408 say the upstream is unwell; other statuses are answers, even unwelcome ones. */
function verdictOf(outcome: Outcome): Verdict {
  if (outcome.kind === 'http' && (outcome.status >= 500 || outcome.status === 408)) {
    return 'failure'
  }
  return 'success'
}

/**
 * The caller's own abort and a local rate-limit refusal say nothing about the upstream, so
 * they neither count towards opening nor close a half-open breaker; nor does a status no
 * `Response` can hold, an answer of an upstream that is up.
 */
function verdictOfError(error: unknown, call: Call): Verdict {
  if (call.signal?.aborted || isRateLimitError(error) || isInvalidResponseError(error)) {
    return 'inconclusive'
  }
  return 'failure'
}

/**
 * Fails calls fast while the upstream of their scope (by default the origin) is known to be
 * down. When it opens and closes is the policy's to say; by default, after `failureThreshold`
 * consecutive failures nothing is sent for `halfOpenAfter` ms, then one probe decides whether
 * to close again.
 */
export function createBreakerStage(
  ctx: StageContext,
  breaker: ResolvedBreaker,
  policy: BreakerPolicy = consecutiveFailures(breaker),
): Stage {
  const { scope: scopeOf } = breaker
  // An evicted scope starts afresh: the worst it costs is the calls it takes to open again.
  const states = new LRUCache<string, BreakerState>({ max: maxScopes })

  const move = (call: Call, scope: string, from: BreakerState, to: BreakerState): void => {
    if (to === from) return
    // A scope at rest is the default, so it need not take a slot.
    if (to === policy.initial) states.delete(scope)
    else states.set(scope, to)
    if (to.name === from.name) return
    if (to.name === 'open') ctx.counters.breakerOpens++
    if (ctx.events.wants('breaker')) {
      ctx.events.emit({ type: 'breaker', ...eventBase(call), scope, from: from.name, to: to.name })
    }
  }

  const settle = (call: Call, scope: string, verdict: Verdict, wasProbe: boolean): void => {
    const from = states.get(scope) ?? policy.initial
    const now = ctx.clock.now()
    const to =
      verdict === 'success'
        ? policy.onSuccess(from, now, wasProbe)
        : verdict === 'failure'
          ? policy.onFailure(from, now, wasProbe)
          : policy.onInconclusive(from, now, wasProbe)
    move(call, scope, from, to)
  }

  return async (call, next) => {
    // Each target of a pool has a breaker of its own, whatever the scope function says.
    const own = scopeOf(call.details)
    const scope = call.via === undefined ? own : `${own} via ${call.via}`
    const from = states.get(scope) ?? policy.initial
    const admission = policy.admit(from, ctx.clock.now())
    move(call, scope, from, admission.state)
    if (!admission.allowed) {
      ctx.counters.breakerRejects++
      throw new CircuitOpenError(scope, admission.retryAfter)
    }
    let outcome: Outcome
    try {
      outcome = await next(call)
    } catch (error) {
      settle(call, scope, verdictOfError(error, call), admission.probe)
      throw error
    }
    settle(call, scope, verdictOf(outcome), admission.probe)
    return outcome
  }
}
