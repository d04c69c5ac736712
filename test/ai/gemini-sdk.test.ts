import { GoogleGenAI } from '@google/genai'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { gemini } from '../../src/ai/index.js'
import { type BreakwaterFetch, createFetch } from '../../src/index.js'
import { type GeminiMock, quotaExhausted, startGeminiMock } from '../helpers/mock-gemini.js'
import { replyFor } from '../helpers/mock-llm.js'

const model = 'gemini-2.0-flash'

// @google/genai 2.x takes a custom fetch in `httpOptions.fetch`, and retries only when given
// `httpOptions.retryOptions`: left out, breakwater is the only one retrying.
describe('gemini preset with the @google/genai SDK', () => {
  let mock: GeminiMock
  let fetch: BreakwaterFetch
  let ai: GoogleGenAI

  const connect = (options: Parameters<typeof gemini>[0] = {}) => {
    fetch = createFetch(gemini({ retry: { baseDelay: 10 }, ...options }))
    ai = new GoogleGenAI({ apiKey: 'test-key', httpOptions: { baseUrl: mock.url, fetch } })
  }
  const ask = (text: string, config: Record<string, unknown> = {}) =>
    ai.models.generateContent({ model, contents: text, config })

  beforeEach(async () => {
    mock = await startGeminiMock()
  })
  afterEach(async () => {
    await fetch?.close()
    await mock.close()
  })

  it('retries a per-minute 429 after the RetryInfo.retryDelay of its body, and a 503', async () => {
    connect()
    mock.script(
      {
        status: 429,
        body: quotaExhausted('GenerateRequestsPerMinutePerProjectPerModel-FreeTier', '0.400s'),
      },
      { status: 503 },
    )
    const started = performance.now()
    const response = await ask('Hello')
    expect(response.text).toBe(replyFor(2))
    expect(mock.requests).toHaveLength(3)
    expect(performance.now() - started).toBeGreaterThanOrEqual(395)
    expect(new Set(mock.requests.map((r) => r.headers['idempotency-key'])).size).toBe(1)
  })

  it('does not retry a per-day quota failure', async () => {
    connect()
    mock.script({
      status: 429,
      body: quotaExhausted('GenerateRequestsPerDayPerProjectPerModel-FreeTier', '20s'),
    })
    await expect(ask('Hello')).rejects.toMatchObject({ status: 429 })
    expect(mock.requests).toHaveLength(1)
  })

  it('serves a repeated call at temperature 0 from the cache', async () => {
    connect()
    const a = await ask('2+2?', { temperature: 0 })
    const b = await ask('2+2?', { temperature: 0 })
    await ask('2+2?', { temperature: 0.7 })
    expect(b.text).toBe(a.text)
    expect(mock.requests).toHaveLength(2)
  })

  it('streams through breakwater, and with cacheStreams replays the stream', async () => {
    connect({ cacheStreams: true })
    const read = async (temperature: number) => {
      let text = ''
      const stream = await ai.models.generateContentStream({
        model,
        contents: 'Stream',
        config: { temperature },
      })
      for await (const chunk of stream) text += chunk.text ?? ''
      return text
    }
    expect(await read(1)).toBe(replyFor(0))
    expect(await read(0)).toBe(replyFor(1))
    expect(await read(0)).toBe(replyFor(1))
    expect(mock.requests).toHaveLength(2)
    expect(mock.requests[1]?.url).toContain(':streamGenerateContent?alt=sse')
  })

  it('never exceeds the input token quota', async () => {
    await mock.close()
    mock = await startGeminiMock({ tpm: 990 })
    connect({ tpm: 990 })
    // 50 tokens each by the mock's count, 51 by breakwater's estimate: 19 fit at once; sent
    // together, the 20th would take the mock to 1_000.
    const prompt = (i: number) => `${String(i).padStart(2, '0')} ${'x'.repeat(185)}`
    await Promise.all(Array.from({ length: 20 }, (_, i) => ask(prompt(i))))
    expect(mock.quotas.tokens?.refused).toBe(0)
    expect(fetch.stats().throttled).toBe(1)
  })
})
