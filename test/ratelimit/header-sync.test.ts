import { describe, expect, it } from 'vitest'
import { goDuration, readServerQuotas, responseTime } from '../../src/ratelimit/header-sync.js'

const reader = (headers: Record<string, string>) => (name: string) => headers[name.toLowerCase()]
const now = Date.parse('2025-03-01T12:00:00Z')

describe('goDuration', () => {
  it('reads the durations OpenAI sends', () => {
    expect(goDuration('6m0s')).toBe(360_000)
    expect(goDuration('1s')).toBe(1_000)
    expect(goDuration('12ms')).toBe(12)
    expect(goDuration('1h2m3.5s')).toBe(3_723_500)
    expect(goDuration('0s')).toBe(0)
    expect(goDuration('0')).toBe(0)
    expect(goDuration('250us')).toBe(0.25)
  })

  it('refuses signs, bare numbers, unknown units and trailing text', () => {
    for (const text of ['-1s', '6', '3d', '1s ago', 's', '', undefined]) {
      expect(goDuration(text), String(text)).toBeUndefined()
    }
  })
})

describe('responseTime', () => {
  it('takes the response Date, or now without one', () => {
    expect(responseTime(reader({ date: 'Sat, 01 Mar 2025 11:59:30 GMT' }), now)).toBe(now - 30_000)
    expect(responseTime(reader({}), now)).toBe(now)
    expect(responseTime(reader({ date: 'yesterday' }), now)).toBe(now)
  })
})

describe('readServerQuotas', () => {
  it('reads OpenAI remaining counts and duration resets', () => {
    const quotas = readServerQuotas(
      reader({
        'x-ratelimit-limit-requests': '60',
        'x-ratelimit-remaining-requests': '59',
        'x-ratelimit-reset-requests': '1s',
        'x-ratelimit-remaining-tokens': '149984',
        'x-ratelimit-reset-tokens': '6m0s',
      }),
      now,
    )
    expect(quotas).toEqual({
      requests: { remaining: 59, resetMs: 1_000 },
      tokens: { remaining: 149_984, resetMs: 360_000 },
    })
  })

  it('reads Anthropic resets against the response Date, not the local clock', () => {
    const quotas = readServerQuotas(
      reader({
        date: 'Sat, 01 Mar 2025 11:00:00 GMT',
        'anthropic-ratelimit-requests-remaining': '49',
        'anthropic-ratelimit-requests-reset': '2025-03-01T11:00:01Z',
        'anthropic-ratelimit-input-tokens-remaining': '39000',
        'anthropic-ratelimit-input-tokens-reset': '2025-03-01T11:00:30.500Z',
        'anthropic-ratelimit-output-tokens-remaining': '8000',
        'anthropic-ratelimit-tokens-remaining': '8000',
        'anthropic-ratelimit-tokens-reset': '2025-03-01T11:00:06Z',
      }),
      // The local clock is an hour ahead of the server's: resets must not come out negative.
      now,
    )
    expect(quotas).toEqual({
      requests: { remaining: 49, resetMs: 1_000 },
      'input-tokens': { remaining: 39_000, resetMs: 30_500 },
      'output-tokens': { remaining: 8_000, resetMs: undefined },
      tokens: { remaining: 8_000, resetMs: 6_000 },
    })
  })

  it('reads the IETF RateLimit field, joined to its policy unit', () => {
    const quotas = readServerQuotas(
      reader({
        'ratelimit-policy': '"burst";q=100;w=60, "bytes";q=1000;w=60;qu="content-bytes"',
        ratelimit: '"burst";r=50;t=30, "bytes";r=2;t=1',
      }),
      now,
    )
    expect(quotas).toEqual({ requests: { remaining: 50, resetMs: 30_000 } })
  })

  it('reads an IETF item without a policy as requests, and keeps the tightest of several', () => {
    const quotas = readServerQuotas(reader({ ratelimit: 'day;r=900;t=3600, "minute";r=7' }), now)
    expect(quotas).toEqual({ requests: { remaining: 7, resetMs: undefined } })
  })

  it('keeps the lower remaining when two dialects report one limit', () => {
    const quotas = readServerQuotas(
      reader({ 'x-ratelimit-remaining-requests': '3', ratelimit: '"default";r=10;t=1' }),
      now,
    )
    expect(quotas.requests?.remaining).toBe(3)
  })

  it('ignores malformed counts and unreadable fields', () => {
    const quotas = readServerQuotas(
      reader({
        'x-ratelimit-remaining-requests': '-4',
        'x-ratelimit-remaining-tokens': 'lots',
        'anthropic-ratelimit-requests-remaining': '1e3',
        ratelimit: '=;=;',
      }),
      now,
    )
    expect(quotas).toEqual({})
  })

  it('finds nothing in a response without rate-limit headers', () => {
    expect(readServerQuotas(reader({ 'content-type': 'application/json' }), now)).toEqual({})
  })
})
