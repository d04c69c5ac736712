import { describe, expect, it } from 'vitest'
import { badOptionsScenario } from '../../bench/chaos/scenarios/bad-options.js'
import { useChaos } from '../helpers/chaos.js'

describe('bad option values', () => {
  const chaos = useChaos(badOptionsScenario, 1)

  it('are tried by the hundred', () => {
    expect(chaos.figure('bad values tried').value).toBeGreaterThan(1_000)
  })
  it('are never accepted', () => chaos.holds('bad values accepted'))
  it('are refused with a TypeError or RangeError', () => chaos.holds('refused with another class'))
  it('are refused with a message naming the option', () => chaos.holds('refused without naming it'))
  it('never hang a call', () => chaos.holds('hung calls'))
})
