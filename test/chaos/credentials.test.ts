import { describe, expect, it } from 'vitest'
import { credentials } from '../../bench/chaos/scenarios/credentials.js'
import { useChaos } from '../helpers/chaos.js'

describe('callers with different credentials on the same URLs', () => {
  const chaos = useChaos(credentials, 1)

  it('covers 48 cases', () => {
    expect(chaos.figure('credential cases').value).toBe(48)
  })
  it('never serves a body made for another credential', () => chaos.holds('wrong-caller bodies'))
  it('never hands one Set-Cookie to two callers', () =>
    chaos.holds('Set-Cookie handed to another caller'))
  it('keeps no Authorization answer in a shared store', () =>
    chaos.holds('Authorization answers in a shared store'))
  it('leaves no rejection unhandled', () => chaos.holds('unhandled rejections'))
})
