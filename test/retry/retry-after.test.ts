import { describe, expect, it } from 'vitest'
import { retryAfterDelay } from '../../src/retry/retry-after.js'

const now = Date.parse('Sun, 06 Nov 1994 08:49:37 GMT')

/** A header reader over a plain record, as the stage hands one in. */
const headers =
  (record: Record<string, string>) =>
  (name: string): string | undefined =>
    record[name]

describe('retryAfterDelay', () => {
  it('honors retry-after-ms over Retry-After', () => {
    expect(retryAfterDelay(headers({ 'retry-after-ms': '1500', 'retry-after': '30' }), now)).toBe(
      1_500,
    )
  })

  it('keeps fractional milliseconds', () => {
    expect(retryAfterDelay(headers({ 'retry-after-ms': '12.5' }), now)).toBe(12.5)
  })

  it('reads Retry-After as delta-seconds', () => {
    expect(retryAfterDelay(headers({ 'retry-after': '2' }), now)).toBe(2_000)
    expect(retryAfterDelay(headers({ 'retry-after': ' 120 ' }), now)).toBe(120_000)
  })

  it('reads Retry-After as an HTTP-date relative to now, in each of its three forms', () => {
    // asctime carries no zone: it must be read as GMT even where the local zone is not.
    const zone = process.env.TZ
    process.env.TZ = 'America/New_York'
    try {
      for (const date of [
        'Sun, 06 Nov 1994 08:50:07 GMT',
        'Sunday, 06-Nov-94 08:50:07 GMT',
        'Sun Nov  6 08:50:07 1994',
      ]) {
        expect(retryAfterDelay(headers({ 'retry-after': date }), now)).toBe(30_000)
      }
    } finally {
      if (zone === undefined) delete process.env.TZ
      else process.env.TZ = zone
    }
  })

  it('answers 0 for a date already past', () => {
    expect(retryAfterDelay(headers({ 'retry-after': 'Sun, 06 Nov 1994 08:00:00 GMT' }), now)).toBe(
      0,
    )
  })

  it('treats negative and zero values as unknown, as Azure sends them', () => {
    for (const value of ['-1', '0', '0.0']) {
      expect(retryAfterDelay(headers({ 'retry-after-ms': value }), now)).toBeUndefined()
      expect(retryAfterDelay(headers({ 'retry-after': value }), now)).toBeUndefined()
    }
  })

  it('treats garbage as unknown', () => {
    for (const value of ['soon', '', '1e3', '0x10', '5s', 'Mon, 99 Foo 1994', 'NaN']) {
      expect(retryAfterDelay(headers({ 'retry-after-ms': value }), now)).toBeUndefined()
      expect(retryAfterDelay(headers({ 'retry-after': value }), now)).toBeUndefined()
    }
  })

  it('falls back to Retry-After when retry-after-ms is unusable', () => {
    expect(retryAfterDelay(headers({ 'retry-after-ms': '-1', 'retry-after': '3' }), now)).toBe(
      3_000,
    )
  })

  it('answers undefined when neither header is present', () => {
    expect(retryAfterDelay(headers({}), now)).toBeUndefined()
  })
})
