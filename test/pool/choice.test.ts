import { describe, expect, it } from 'vitest'
import { type Contender, contenders, pick, type Standing } from '../../src/pool/choice.js'

const warm = (tier = 0): Standing => ({ tier, coolUntil: Number.NEGATIVE_INFINITY })
const cooling = (until: number, tier = 0): Standing => ({ tier, coolUntil: until })
const room = (index: number, wait: number, share = 1, weight = 1): Contender => ({
  index,
  weight,
  headroom: { wait, share },
})

describe('contenders', () => {
  it('leaves out the targets cooling down', () => {
    expect(contenders([cooling(2_000), warm(), warm()], [0, 1, 2], 1_000)).toEqual([1, 2])
  })

  it('takes a target whose cooldown has ended', () => {
    expect(contenders([cooling(1_000), warm()], [0, 1], 1_000)).toEqual([0, 1])
  })

  it('falls back to the target whose cooldown ends first when every one left is cooling', () => {
    expect(contenders([cooling(5_000), cooling(3_000), cooling(4_000)], [0, 1, 2], 1_000)).toEqual([
      1,
    ])
  })

  it('keeps to the lowest tier among the warm ones: the targets before the fallbacks', () => {
    expect(contenders([warm(0), warm(0), warm(1)], [0, 1, 2], 0)).toEqual([0, 1])
    expect(contenders([warm(0), warm(0), warm(1)], [2], 0)).toEqual([2])
  })

  it('prefers a warm fallback to a target of the pool that is cooling down', () => {
    expect(contenders([cooling(9_000, 0), warm(1), warm(2)], [0, 1, 2], 1_000)).toEqual([1])
  })

  it('has nothing when every target was tried', () => {
    expect(contenders([warm(), warm()], [], 0)).toEqual([])
  })
})

describe('pick', () => {
  it('takes the target that can start the call soonest', () => {
    expect(pick([room(0, 300), room(1, 50), room(2, 900)], 0.99)).toBe(1)
  })

  it('splits targets that can start at once by the share of budget they hold', () => {
    const candidates = [room(0, 0, 0.25), room(1, 0, 0.75)]
    expect(pick(candidates, 0.2)).toBe(0)
    expect(pick(candidates, 0.3)).toBe(1)
  })

  it('weighs the share by the target weight', () => {
    const candidates = [room(0, 0, 1, 3), room(1, 0, 1, 1)]
    expect(pick(candidates, 0.74)).toBe(0)
    expect(pick(candidates, 0.76)).toBe(1)
  })

  it('goes by weight alone when every bucket is spent to the same wait', () => {
    const candidates = [room(0, 200, 0, 1), room(1, 200, 0, 1)]
    expect(pick(candidates, 0.4)).toBe(0)
    expect(pick(candidates, 0.6)).toBe(1)
  })

  it('treats waits less than a millisecond apart as the same wait', () => {
    const candidates = [room(0, 100.2, 0, 1), room(1, 100.9, 0, 1)]
    expect(pick(candidates, 0.9)).toBe(1)
  })
})
