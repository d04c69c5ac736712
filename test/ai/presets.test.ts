import { describe, expect, it } from 'vitest'
import { protoDuration } from '../../src/ai/gemini.js'
import { anthropic, gemini, openai } from '../../src/ai/index.js'
import { createFetch, type RetryContext, wrap } from '../../src/index.js'
import type { RateLimitBucketOptions } from '../../src/ratelimit/options.js'

const bucketsOf = (options: ReturnType<typeof anthropic>) =>
  (options.rateLimit ?? []) as readonly RateLimitBucketOptions[]

const context = (overrides: Partial<RetryContext>): RetryContext => ({
  method: 'POST',
  url: 'https://api.example.com/v1',
  origin: 'https://api.example.com',
  attempt: 1,
  status: 429,
  error: undefined,
  body: undefined,
  header: () => undefined,
  ...overrides,
})
const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value))
const headers =
  (h: Record<string, string>) =>
  (name: string): string | undefined =>
    h[name]

describe('anthropic()', () => {
  it('builds a requests bucket and input and output token buckets, mirrored by the server’s headers', () => {
    const buckets = bucketsOf(anthropic({ rpm: 50, inputTpm: 30_000, outputTpm: 8_000 }))
    expect(buckets.map((b) => [b.name, b.perMinute, b.serverLimit])).toEqual([
      ['requests', 50, 'requests'],
      ['inputTokens', 30_000, 'input-tokens'],
      ['outputTokens', 8_000, 'output-tokens'],
    ])
    // A token bucket holds a minute: a call larger than a second's worth can still pass.
    expect(buckets[1]?.capacity).toBe(30_000)
  })

  it('retries 408, 409, 429, 529 and 5xx but not 501, with a 10-minute attempt timeout', () => {
    const options = anthropic()
    const retry = options.retry as { statuses: number[] }
    for (const status of [408, 409, 429, 500, 502, 503, 504, 529])
      expect(retry.statuses).toContain(status)
    expect(retry.statuses).not.toContain(501)
    expect(retry.statuses).not.toContain(400)
    expect(options.timeout).toBe(600_000)
  })

  it('keeps the core idempotency keys on (every POST gets one) and has no budget when none is given', () => {
    const options = anthropic()
    expect(options.idempotency).toBeUndefined()
    expect(options.rateLimit).toBeUndefined()
  })

  it('refuses a 429 without retry-after, leaves the others to the core rules', () => {
    const { retryOn } = anthropic().retry as { retryOn: (c: RetryContext) => boolean | undefined }
    expect(retryOn(context({}))).toBe(false)
    expect(retryOn(context({ header: headers({ 'retry-after': '3' }) }))).toBeUndefined()
    expect(retryOn(context({ header: headers({ 'x-should-retry': 'true' }) }))).toBeUndefined()
    expect(retryOn(context({ status: 529 }))).toBeUndefined()
  })

  it('merges the caller’s retry and cache options under its own rules', () => {
    const options = anthropic({ retry: { maxAttempts: 2 }, cache: { ttl: 5_000 } })
    expect(options.retry).toMatchObject({ maxAttempts: 2 })
    expect(options.cache).toMatchObject({
      ttl: 5_000,
      methods: ['GET', 'HEAD', 'POST'],
      streams: false,
    })
    expect(anthropic({ cache: false, retry: false })).toMatchObject({ cache: false, retry: false })
  })

  it('makes options both front doors accept', async () => {
    const fetch = createFetch(
      anthropic({ rpm: 10, inputTpm: 1_000, outputTpm: 1_000, cacheStreams: true }),
    )
    const create = wrap(async () => 1, anthropic({ rpm: 10 }))
    await fetch.close()
    await create.close()
  })
})

describe('openai()', () => {
  it('builds requests and tokens buckets', () => {
    expect(
      bucketsOf(openai({ rpm: 500, tpm: 200_000 })).map((b) => [
        b.name,
        b.perMinute,
        b.serverLimit,
      ]),
    ).toEqual([
      ['requests', 500, 'requests'],
      ['tokens', 200_000, 'tokens'],
    ])
  })

  it('refuses insufficient_quota and no other 429', () => {
    const { retryOn } = openai().retry as { retryOn: (c: RetryContext) => boolean | undefined }
    expect(
      retryOn(
        context({
          body: json({ error: { code: 'insufficient_quota', type: 'insufficient_quota' } }),
        }),
      ),
    ).toBe(false)
    expect(
      retryOn(context({ body: json({ error: { code: 'rate_limit_exceeded' } }) })),
    ).toBeUndefined()
  })
})

describe('gemini()', () => {
  it('builds requests, per-day and input token buckets; a day’s quota may go at once', () => {
    const buckets = bucketsOf(gemini({ rpm: 15, tpm: 1_000_000, rpd: 1_500 }))
    expect(buckets.map((b) => b.name)).toEqual(['requests', 'requestsPerDay', 'inputTokens'])
    expect(buckets[1]).toMatchObject({ capacity: 1_500, perMinute: 1_500 / 1_440 })
  })

  it('reads RetryInfo.retryDelay and refuses per-day quota failures', () => {
    const retry = gemini().retry as {
      retryOn: (c: RetryContext) => boolean | undefined
      retryAfter: (c: RetryContext) => number | undefined
    }
    const body = (quotaId: string, retryDelay: string) =>
      json({
        error: {
          code: 429,
          details: [
            { '@type': 'type.googleapis.com/google.rpc.QuotaFailure', violations: [{ quotaId }] },
            { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay },
          ],
        },
      })
    const minute = context({
      body: body('GenerateRequestsPerMinutePerProjectPerModel', '45.837906927s'),
    })
    expect(retry.retryOn(minute)).toBeUndefined()
    expect(retry.retryAfter(minute)).toBeCloseTo(45_837.906927)
    expect(
      retry.retryOn(
        context({ body: body('GenerateRequestsPerDayPerProjectPerModel-FreeTier', '3s') }),
      ),
    ).toBe(false)
  })

  it('reads protobuf durations and nothing else', () => {
    expect(protoDuration('1.5s')).toBe(1_500)
    expect(protoDuration('2')).toBeUndefined()
    expect(protoDuration(3)).toBeUndefined()
  })
})

describe('preset arguments', () => {
  it('are checked at once, the message naming the option and the value', () => {
    expect(() => anthropic({ rpm: 0 })).toThrow(
      new RangeError('anthropic.rpm must be a positive finite number, got 0'),
    )
    expect(() => openai({ tpm: Number.POSITIVE_INFINITY })).toThrow(
      'openai.tpm must be a positive finite number, got Infinity',
    )
    expect(() => gemini({ rpd: -5 })).toThrow('gemini.rpd must be a positive finite number, got -5')
    expect(() => anthropic({ outputEstimate: 1.5 })).toThrow(
      'anthropic.outputEstimate must be an integer ≥ 1, got 1.5',
    )
    expect(() => openai({ cacheStreams: 'yes' } as never)).toThrow(
      'openai.cacheStreams must be a boolean, got "yes"',
    )
    expect(() => gemini({ tpd: 5 } as never)).toThrow(
      /^gemini\.tpd is not an option; known: rpm, tpm, rpd/,
    )
    expect(() => anthropic('fast' as never)).toThrow(
      'anthropic() options must be an object, got "fast"',
    )
  })

  it('pass the rest to the core, which checks them at construction', () => {
    expect(() => createFetch(anthropic({ retry: { maxAttempts: 0 } }))).toThrow(
      'retry.maxAttempts must be an integer ≥ 1, got 0',
    )
    expect(() => createFetch(anthropic({ rpm: 10, maxWait: -1 }))).toThrow(/maxWait/)
  })
})
