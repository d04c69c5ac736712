import { describe, it } from 'vitest'
import { redisChaos } from '../../bench/chaos/scenarios/redis-chaos.js'
import { useChaos } from '../helpers/chaos.js'

describe('cold GETs and keyed POSTs while Redis is killed, paused, slept and silenced', () => {
  const chaos = useChaos(redisChaos, 0.15)

  it('settles every call within a generous bound', () => chaos.holds('hung calls'))
  it('leaves no rejection unhandled', () => chaos.holds('unhandled rejections'))
  it('throws nothing uncaught', () => chaos.holds('uncaught exceptions'))
  it('sends no keyed POST twice from one process', () =>
    chaos.holds('keyed POSTs sent twice by one process'))
  it('keeps every wait on a lease within redis.timeout + the upstream + 1 s', () =>
    chaos.holds('longest wait on a lease'))
  it('closes within redis.timeout + 1 s against a Redis that never answers', () =>
    chaos.holds('longest close() against a silent Redis'))
})
