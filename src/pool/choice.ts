/**
 * Which target of a pool a call goes to next: pure, no I/O, no clock. The stage passes `now`,
 * what it knows of each target and a random number in [0, 1). The choice is made in two steps
 * so that the stage reads the buckets of the contenders only.
 */
import type { Headroom } from '../ratelimit/headroom.js'

/** What the first step knows of a target. */
export interface Standing {
  /** 0 for the pool's targets; 1, 2... for each fallback in turn. */
  readonly tier: number
  /** Clock ms until which the target is passed over after a failure. */
  readonly coolUntil: number
}

/** A contender, with what its buckets say. */
export interface Contender {
  readonly index: number
  readonly weight: number
  /** When a call could start on the target's buckets, and how full they are. */
  readonly headroom: Headroom
}

/** Waits closer than this are the same wait: a timer counts whole ms. */
const sameWait = 1

/**
 * The targets among `untried` that the call may go to next (empty when none is left): those
 * not cooling down (when every one left is, the one whose cooldown ends first), of the lowest
 * tier among them: the pool's targets first, then each fallback in turn.
 */
export function contenders(
  standings: readonly Standing[],
  untried: readonly number[],
  now: number,
): number[] {
  if (untried.length === 0) return []
  const at = (i: number) => standings[i] as Standing
  const warm = untried.filter((i) => at(i).coolUntil <= now)
  const pool =
    warm.length > 0
      ? warm
      : [untried.reduce((best, i) => (at(i).coolUntil < at(best).coolUntil ? i : best))]
  const tier = Math.min(...pool.map((i) => at(i).tier))
  return pool.filter((i) => at(i).tier === tier)
}

/**
 * The contender a call goes to: of those that can start it soonest on their buckets, one at
 * random by weight times the share of budget its buckets hold, so that processes reading the
 * same shared buckets spread their calls by what is left rather than crowd one target.
 */
export function pick(candidates: readonly Contender[], random: number): number {
  const soonest = Math.min(...candidates.map((c) => c.headroom.wait))
  const ready = candidates.filter((c) => c.headroom.wait - soonest < sameWait)
  const byShare = ready.map((c) => c.weight * c.headroom.share)
  // Buckets all spent alike say nothing: the weights alone decide.
  const scores = byShare.some((s) => s > 0) ? byShare : ready.map((c) => c.weight)
  const total = scores.reduce((sum, s) => sum + s, 0)
  let point = random * total
  for (let k = 0; k < ready.length; k++) {
    point -= scores[k] as number
    if (point < 0) return (ready[k] as Contender).index
  }
  return (ready[ready.length - 1] as Contender).index
}
