import { describe, it } from 'vitest'
import { malformedHeaders } from '../../bench/chaos/scenarios/malformed-headers.js'
import { useChaos } from '../helpers/chaos.js'

describe('malformed answers from the server', () => {
  const chaos = useChaos(malformedHeaders, 1)

  it('settle every call within a generous bound', () => chaos.holds('hung calls'))
  it('reject only with Errors', () => chaos.holds('rejections that are no Error'))
  it('leave no rejection unhandled', () => chaos.holds('unhandled rejections'))
  it('throw nothing uncaught', () => chaos.holds('uncaught exceptions'))
})
