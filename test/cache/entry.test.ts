import { describe, expect, it } from 'vitest'
import { isOutcome } from '../../src/cache/entry.js'
import { httpOutcome } from '../helpers/call.js'

describe('isOutcome', () => {
  it('accepts an http outcome a Response can be built from', () => {
    expect(isOutcome(httpOutcome(200))).toBe(true)
    expect(isOutcome({ ...httpOutcome(200), statusText: 'Trés bien' })).toBe(true)
  })

  it('refuses a reason phrase or a status no Response can carry, so a hit never throws', () => {
    expect(isOutcome({ ...httpOutcome(200), statusText: 'OK ✓' })).toBe(false)
    expect(isOutcome(httpOutcome(699))).toBe(false)
    expect(isOutcome(httpOutcome(199))).toBe(false)
  })
})
