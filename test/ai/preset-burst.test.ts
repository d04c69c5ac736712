import Anthropic from '@anthropic-ai/sdk'
import { GoogleGenAI } from '@google/genai'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { anthropic, gemini, openai } from '../../src/ai/index.js'
import { type BreakwaterFetch, type BreakwaterOptions, createFetch } from '../../src/index.js'
import type { RateLimitBucketOptions } from '../../src/ratelimit/options.js'
import {
  createManualTime,
  type ManualTime,
  type TrackedFetch,
  trackFetch,
} from '../helpers/manual-time.js'
import { startAnthropicMock } from '../helpers/mock-anthropic.js'
import { startGeminiMock } from '../helpers/mock-gemini.js'
import type { LlmServer } from '../helpers/mock-llm.js'

const capacities = (options: BreakwaterOptions) =>
  ((options.rateLimit ?? []) as readonly RateLimitBucketOptions[]).map((b) => [b.name, b.capacity])

describe('preset burst', () => {
  it('holds a minute of every limit by default, a day of requestsPerDay', () => {
    expect(capacities(anthropic({ rpm: 50, inputTpm: 30_000, outputTpm: 8_000 }))).toEqual([
      ['requests', 50],
      ['inputTokens', 30_000],
      ['outputTokens', 8_000],
    ])
    expect(capacities(openai({ rpm: 500, tpm: 200_000 }))).toEqual([
      ['requests', 500],
      ['tokens', 200_000],
    ])
    expect(capacities(gemini({ rpm: 15, rpd: 1_500, tpm: 1_000_000 }))).toEqual([
      ['requests', 15],
      ['requestsPerDay', 1_500],
      ['inputTokens', 1_000_000],
    ])
  })

  it('sizes each bucket by its name', () => {
    const options = anthropic({
      rpm: 50,
      inputTpm: 30_000,
      burst: { requests: 10, inputTokens: 5_000 },
    })
    expect(capacities(options)).toEqual([
      ['requests', 10],
      ['inputTokens', 5_000],
    ])
    expect(capacities(gemini({ rpd: 1_500, burst: { requestsPerDay: 100 } }))).toEqual([
      ['requestsPerDay', 100],
    ])
  })

  it.each([
    [
      () => anthropic({ rpm: 50, burst: { tokens: 5 } as never }),
      'anthropic.burst.tokens is not an option; known: requests, inputTokens, outputTokens',
    ],
    [
      () => openai({ rpm: 50, burst: { tokens: 5 } }),
      'openai.burst.tokens sizes a bucket this preset does not have: set tpm',
    ],
    [
      () => gemini({ rpm: 15, burst: { requests: 0.5 } }),
      'gemini.burst.requests must be a finite number ≥ 1, got 0.5',
    ],
    [
      () => gemini({ rpm: 15, burst: 10 as never }),
      'gemini.burst must be an object of bucket sizes, got 10',
    ],
  ])('refuses a bad burst, naming it (%#)', (make, message) => {
    expect(make).toThrow(message)
  })
})

describe('preset burst through the SDKs', () => {
  // The bucket runs on manual time: a call that waits for budget waits until the test moves
  // the clock, and nothing is on the wire while it moves.
  let time: ManualTime
  let net: TrackedFetch
  let mock: LlmServer
  let fetch: BreakwaterFetch
  const advance = (ms: number) => time.advance(ms, net.settle)

  beforeEach(() => {
    time = createManualTime()
    net = trackFetch()
  })
  afterEach(async () => {
    await fetch?.close()
    await mock?.close()
    await net.close()
  })

  const claude = async (options: Parameters<typeof anthropic>[0]) => {
    mock = await startAnthropicMock()
    fetch = createFetch({ ...anthropic(options), clock: time, timers: time, fetch: net.fetch })
    const client = new Anthropic({ apiKey: 'sk-test', baseURL: mock.url, fetch, maxRetries: 0 })
    return (text: string) =>
      client.messages.create({
        model: 'claude-sonnet-4-6',
        max_tokens: 16,
        messages: [{ role: 'user', content: text }],
      })
  }

  it('starts 5 parallel Anthropic calls at once under rpm 50', async () => {
    const send = await claude({ rpm: 50 })
    const all = Promise.all(Array.from({ length: 5 }, (_, i) => send(`call ${i}`)))
    await advance(0)
    expect(mock.requests).toHaveLength(5)
    await all
  })

  it('spaces calls past the burst one rpm interval apart', async () => {
    const send = await claude({ rpm: 50, burst: { requests: 2 } })
    const all = Promise.all(Array.from({ length: 4 }, (_, i) => send(`call ${i}`)))
    await advance(0)
    expect(mock.requests).toHaveLength(2)
    // 60 000 ms / 50 = 1 200 ms a request.
    await advance(1_199)
    expect(mock.requests).toHaveLength(2)
    await advance(1)
    expect(mock.requests).toHaveLength(3)
    await advance(1_200)
    expect(mock.requests).toHaveLength(4)
    await all
  })

  it('lets one Gemini call and its two retries through under rpm 15 without a budget wait', async () => {
    mock = await startGeminiMock()
    fetch = createFetch({
      ...gemini({ rpm: 15, retry: { baseDelay: 10, maxDelay: 10 } }),
      clock: time,
      timers: time,
      fetch: net.fetch,
    })
    const ai = new GoogleGenAI({ apiKey: 'k', httpOptions: { baseUrl: mock.url, fetch } })
    mock.script({ status: 503 }, { status: 503 })
    const answer = ai.models.generateContent({ model: 'gemini-2.5-flash', contents: 'Hello' })
    // Two backoffs of at most 10 ms; a second's worth of budget (one request) would hold each
    // retry for 4 s.
    await advance(50)
    expect(mock.requests).toHaveLength(3)
    expect((await answer).text).toBeTypeOf('string')
  })
})
