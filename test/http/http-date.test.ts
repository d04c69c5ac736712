import { describe, expect, it } from 'vitest'
import { parseHttpDate } from '../../src/http/http-date.js'

describe('parseHttpDate', () => {
  it('reads the three HTTP-date forms as the same time', () => {
    const at = Date.UTC(1994, 10, 6, 8, 49, 37)
    expect(parseHttpDate('Sun, 06 Nov 1994 08:49:37 GMT')).toBe(at)
    expect(parseHttpDate('Sunday, 06-Nov-94 08:49:37 GMT')).toBe(at)
    expect(parseHttpDate('Sun Nov  6 08:49:37 1994')).toBe(at)
  })

  it('refuses what Date.parse would read leniently', () => {
    for (const value of [
      '0',
      '-1',
      'tomorrow',
      '2026-01-01',
      'Sun, 06 Nov 1994 08:49:37 PST',
      'Sun, 6 Nov 1994 08:49:37 GMT',
    ]) {
      expect(parseHttpDate(value)).toBeUndefined()
    }
    expect(parseHttpDate(undefined)).toBeUndefined()
  })
})
