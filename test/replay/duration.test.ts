import { describe, expect, it } from 'vitest'
import { formatDuration, parseDuration } from '../../src/replay/duration.js'

describe('parseDuration', () => {
  it('reads ms, seconds, minutes, hours and days', () => {
    expect(parseDuration('250ms')).toBe(250)
    expect(parseDuration('60s')).toBe(60_000)
    expect(parseDuration('5m')).toBe(300_000)
    expect(parseDuration('1h')).toBe(3_600_000)
    expect(parseDuration('2d')).toBe(172_800_000)
  })

  it('reads decimals and ignores surrounding blanks', () => {
    expect(parseDuration('1.5s')).toBe(1_500)
    expect(parseDuration('.5m')).toBe(30_000)
    expect(parseDuration(' 5m ')).toBe(300_000)
  })

  it('refuses a number without a unit rather than guess one', () => {
    expect(() => parseDuration('60')).toThrow(/"60" is not a duration: write a number and a unit/)
  })

  it('refuses unknown units, signs and words, naming the text', () => {
    for (const text of ['5x', '-5s', '5 s', 'five minutes', '', '1e3ms', '5M']) {
      expect(() => parseDuration(text), text).toThrow(RangeError)
    }
    expect(() => parseDuration('5x')).toThrow('"5x" is not a duration')
  })

  it('refuses a duration of zero', () => {
    expect(() => parseDuration('0s')).toThrow('"0s": a duration must be above 0')
  })
})

describe('formatDuration', () => {
  it('writes the largest unit that is exact to a tenth', () => {
    expect(formatDuration(300_000)).toBe('5m')
    expect(formatDuration(60_000)).toBe('1m')
    expect(formatDuration(90_000)).toBe('1.5m')
    expect(formatDuration(1_500)).toBe('1.5s')
    expect(formatDuration(86_400_000)).toBe('1d')
    expect(formatDuration(250)).toBe('250ms')
    expect(formatDuration(61_000)).toBe('61s')
  })

  it('reads back as the same ms', () => {
    for (const ms of [250, 1_000, 45_000, 90_000, 300_000, 3_600_000, 5_400_000]) {
      expect(parseDuration(formatDuration(ms))).toBe(ms)
    }
  })
})
