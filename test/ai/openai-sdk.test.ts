import OpenAI from 'openai'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { openai } from '../../src/ai/index.js'
import { type BreakwaterFetch, createFetch } from '../../src/index.js'
import { replyFor } from '../helpers/mock-llm.js'
import { insufficientQuota, type OpenAIMock, startOpenAIMock } from '../helpers/mock-openai.js'

const model = 'gpt-4.1-mini'
const ask = (text: string, extra: Partial<OpenAI.ChatCompletionCreateParamsNonStreaming> = {}) => ({
  model,
  max_tokens: 64,
  messages: [{ role: 'user' as const, content: text }],
  ...extra,
})

describe('openai preset with the OpenAI SDK', () => {
  let mock: OpenAIMock
  let fetch: BreakwaterFetch
  let client: OpenAI

  const connect = (options: Parameters<typeof openai>[0] = {}) => {
    fetch = createFetch(openai({ retry: { baseDelay: 10 }, ...options }))
    client = new OpenAI({ apiKey: 'sk-test', baseURL: `${mock.url}/v1`, fetch, maxRetries: 0 })
  }

  beforeEach(async () => {
    mock = await startOpenAIMock()
  })
  afterEach(async () => {
    await fetch?.close()
    await mock.close()
  })

  it('survives a 429 (waiting its retry-after-ms) and a 503, with one idempotency key', async () => {
    connect()
    mock.script({ status: 429, headers: { 'retry-after-ms': '300' } }, { status: 503 })
    const started = performance.now()
    const completion = await client.chat.completions.create(ask('Hello'))
    expect(completion.choices[0]?.message.content).toBe(replyFor(2))
    expect(mock.requests).toHaveLength(3)
    expect(new Set(mock.requests.map((r) => r.headers['idempotency-key'])).size).toBe(1)
    expect(mock.requests[0]?.headers['idempotency-key']).toBeDefined()
    expect(performance.now() - started).toBeGreaterThanOrEqual(295)
  })

  it('times out a slow attempt and retries it under the same idempotency key', async () => {
    connect({ timeout: 200 })
    mock.script({ latency: 1_000 })
    const completion = await client.chat.completions.create(ask('Hello'))
    expect(completion.choices[0]?.message.content).toBe(replyFor(1))
    expect(mock.requests).toHaveLength(2)
    expect(new Set(mock.requests.map((r) => r.headers['idempotency-key'])).size).toBe(1)
    expect(fetch.stats().timeouts).toBe(1)
  })

  it('does not retry insufficient_quota, which no wait cures', async () => {
    connect()
    mock.script({ status: 429, headers: { 'retry-after': '1' }, body: insufficientQuota })
    await expect(client.chat.completions.create(ask('Hello'))).rejects.toMatchObject({
      status: 429,
      code: 'insufficient_quota',
    })
    expect(mock.requests).toHaveLength(1)
  })

  it('obeys x-should-retry: false on a status it would otherwise retry', async () => {
    connect()
    mock.script({ status: 503, headers: { 'x-should-retry': 'false' } })
    await expect(client.chat.completions.create(ask('Hello'))).rejects.toMatchObject({
      status: 503,
    })
    expect(mock.requests).toHaveLength(1)
  })

  it('serves a repeated call at temperature 0 from the cache, and merges concurrent twins', async () => {
    connect()
    const [a, b] = await Promise.all([
      client.chat.completions.create(ask('2+2?', { temperature: 0 })),
      client.chat.completions.create(ask('2+2?', { temperature: 0 })),
    ])
    const c = await client.chat.completions.create(ask('2+2?', { temperature: 0 }))
    expect(b.choices[0]?.message.content).toBe(a.choices[0]?.message.content)
    expect(c.id).toBe(a.id)
    expect(mock.requests).toHaveLength(1)
    // Another parameter that changes the answer is another entry.
    await client.chat.completions.create(ask('2+2?', { temperature: 0, max_tokens: 5 }))
    expect(mock.requests).toHaveLength(2)
  })

  it('streams chunks through breakwater and settles the tokens from the usage chunk', async () => {
    const limits = { tpm: 1_000 }
    await mock.close()
    mock = await startOpenAIMock(limits)
    connect({ ...limits, maxWait: 2_000 })
    // Each call reserves 69 of the 1_000 tokens and uses 13: unsettled, the 15th would wait.
    for (let i = 0; i < 16; i++) {
      const stream = await client.chat.completions.create({
        ...ask('Hello'),
        stream: true,
        stream_options: { include_usage: true },
      })
      let text = ''
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? ''
      expect(text).toBe(replyFor(i))
    }
    expect(mock.quotas.tokens?.refused).toBe(0)
    expect(fetch.stats().throttled).toBe(0)
  })

  it('with cacheStreams, replays a finished stream chunk for chunk', async () => {
    connect({ cacheStreams: true })
    const read = async () => {
      const stream = await client.chat.completions.create({
        ...ask('Stream', { temperature: 0 }),
        stream: true,
      })
      const chunks: string[] = []
      for await (const chunk of stream) chunks.push(chunk.choices[0]?.delta.content ?? '')
      return chunks
    }
    const first = await read()
    const second = await read()
    expect(first.join('')).toBe(replyFor(0))
    expect(second).toEqual(first)
    expect(mock.requests).toHaveLength(1)
  })

  it('never exceeds the token quota, input and max_tokens charged up front', async () => {
    await mock.close()
    mock = await startOpenAIMock({ tpm: 1_400 })
    // Generating for 300 ms, the calls hold their reservations at the same time.
    mock.generation = 300
    connect({ tpm: 1_400 })
    // The mock charges 4 + 64 per call, breakwater reserves 5 + 64: 20 fit at once; sent at
    // once, the 21st would take the mock to 1_428 and be refused.
    const calls = Array.from({ length: 21 }, (_, i) =>
      client.chat.completions.create(ask(`q${String(i).padStart(2, '0')}`)),
    )
    await Promise.all(calls)
    expect(mock.quotas.tokens?.refused).toBe(0)
    expect(fetch.stats().throttled).toBe(1)
  })
})
