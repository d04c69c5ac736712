import { describe, expect, it } from 'vitest'
import { upstreamFaults } from '../../bench/chaos/scenarios/upstream-faults.js'
import { useChaos } from '../helpers/chaos.js'

describe('calls through an upstream that resets, trickles, truncates and never answers', () => {
  const chaos = useChaos(upstreamFaults, 0.02)

  it('made every call it meant to', () => {
    expect(chaos.figure('calls').value).toBe(400)
  })
  it('settles every call within a generous bound', () => chaos.holds('hung calls'))
  it('leaves no rejection unhandled', () => chaos.holds('unhandled rejections'))
  it('throws nothing uncaught', () => chaos.holds('uncaught exceptions'))
  it('never serves a caller the body made for another', () => chaos.holds('wrong-caller bodies'))
  it('never serves a cut body as whole', () => chaos.holds('broken bodies served whole'))
})
