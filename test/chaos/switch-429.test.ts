import { describe, it } from 'vitest'
import { switch429 } from '../../bench/chaos/scenarios/switch-429.js'
import { useChaos } from '../helpers/chaos.js'

describe('a shared bucket at the server quota while Redis goes and comes back', () => {
  const chaos = useChaos(switch429, 0.2)

  it('settles every call within a generous bound', () => chaos.holds('hung calls'))
  it('leaves no rejection unhandled', () => chaos.holds('unhandled rejections'))
  it('lets no burst of 429s through at a switch between Redis and local', () =>
    chaos.holds('429s at a switch'))
})
