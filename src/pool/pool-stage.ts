import type { Call } from '../core/call.js'
import { eventBase, type StageContext } from '../core/context.js'
import { discard, type Outcome } from '../core/outcome.js'
import type { Next, Stage } from '../core/stage.js'
import { type Headroom, unlimited } from '../ratelimit/headroom.js'
import { type Contender, contenders, pick, type Standing } from './choice.js'
import { type Ending, type Failover, failoverOf } from './failover.js'
import type { ResolvedPool } from './options.js'
import { callVia } from './target-call.js'

export interface PoolStage {
  readonly stage: Stage
  /** Calls each target ended, by name. */
  servedBy(): Readonly<Record<string, number>>
}

/** Reads when a call could start on its buckets; undefined when the instance has none. */
export type HeadroomReader = () => ((call: Call) => Promise<Headroom>) | undefined

/**
 * Sends each call to one target of the pool at a time, from the one that can start it soonest
 * (its breaker and buckets are its own, below), and on to the next when the target fails in a
 * way its own retries did not cure (`failoverOn`): the failed target cools down for the wait
 * the failure named, else `cooldown`. The last target's ending, failure or not, is the call's.
 * Counted in `failovers` and `servedBy`; reported as `failover` and `served`.
 */
export function createPoolStage(
  ctx: StageContext,
  pool: ResolvedPool,
  headroomOf: HeadroomReader,
  random: () => number = Math.random,
): PoolStage {
  const { targets } = pool
  const standings: Standing[] = targets.map((t) => ({ tier: t.tier, coolUntil: -Infinity }))
  const served = targets.map(() => 0)

  const choose = async (untried: readonly number[], via: (i: number) => Promise<Call>) => {
    const indices = contenders(standings, untried, ctx.clock.now())
    if (indices.length === 1) return indices[0] as number
    const read = headroomOf()
    const candidates: Contender[] = await Promise.all(
      indices.map(async (index) => ({
        index,
        weight: (targets[index] as (typeof targets)[number]).weight,
        headroom: read === undefined ? unlimited : await read(await via(index)),
      })),
    )
    return pick(candidates, random())
  }

  /** Sets the target's cooldown after `ending` at `now`; returns its length, ms. */
  const cool = (index: number, ending: Ending, failover: Failover | undefined, now: number) => {
    const standing = standings[index] as Standing
    if (failover !== undefined) {
      const cooldown = failover.wait ?? pool.cooldown
      standings[index] = { ...standing, coolUntil: now + cooldown }
      return cooldown
    }
    if (succeeded(ending)) {
      standings[index] = { ...standing, coolUntil: -Infinity }
    }
    return 0
  }

  const stage: Stage = async (call, next) => {
    const made = new Map<number, Promise<Call>>()
    const via = (i: number) => {
      let targeted = made.get(i)
      if (targeted === undefined) {
        targeted = callVia(call, targets[i] as (typeof targets)[number])
        made.set(i, targeted)
      }
      return targeted
    }
    const untried = targets.map((_, i) => i)
    for (let failovers = 0; ; failovers++) {
      const index = await choose(untried, via)
      untried.splice(untried.indexOf(index), 1)
      const targeted = await via(index)
      const ending = await endingOf(next, targeted)
      const now = ctx.clock.now()
      // Past its deadline, no target could answer the call: the failure is the call's, not the
      // target's, and no other target is tried or cooled down for it.
      const over =
        call.signal?.aborted === true || (call.deadline !== undefined && now >= call.deadline)
      const failover = over ? undefined : failoverOf(ending, pool.failover, call.resendable, now)
      const cooldown = cool(index, ending, failover, now)
      const name = (targets[index] as (typeof targets)[number]).name
      if (failover === undefined || untried.length === 0) {
        if (failover === undefined && !over) report(ctx, targeted, name, failovers, served, index)
        if (ending.ok) return ending.outcome
        throw ending.error
      }
      ctx.counters.failovers++
      if (ctx.events.wants('failover')) {
        ctx.events.emit({
          type: 'failover',
          ...eventBase(targeted),
          via: name,
          reason: failover.reason,
          cooldown,
        })
      }
      if (ending.ok) discard(ending.outcome)
    }
  }

  return {
    stage,
    servedBy: () => Object.fromEntries(targets.map((t, i) => [t.name, served[i] as number])),
  }
}

async function endingOf(next: Next, call: Call): Promise<Ending> {
  try {
    return { ok: true, outcome: await next(call) }
  } catch (error) {
    return { ok: false, error }
  }
}

function succeeded(ending: Ending): ending is { ok: true; outcome: Outcome } {
  return ending.ok && (ending.outcome.kind === 'value' || ending.outcome.status < 400)
}

function report(
  ctx: StageContext,
  call: Call,
  name: string,
  failovers: number,
  served: number[],
  index: number,
): void {
  served[index] = (served[index] as number) + 1
  if (ctx.events.wants('served')) {
    ctx.events.emit({ type: 'served', ...eventBase(call), via: name, failovers })
  }
}
