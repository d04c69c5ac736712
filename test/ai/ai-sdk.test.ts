import { createAnthropic } from '@ai-sdk/anthropic'
import { createOpenAI } from '@ai-sdk/openai'
import { APICallError, generateText, RetryError, streamText } from 'ai'
import { afterEach, describe, expect, it } from 'vitest'
import { anthropic, openai } from '../../src/ai/index.js'
import {
  type BreakwaterFetch,
  createFetch,
  isRateLimitError,
  RateLimitError,
} from '../../src/index.js'
import { type AnthropicMock, startAnthropicMock } from '../helpers/mock-anthropic.js'
import { replyFor } from '../helpers/mock-llm.js'
import { type OpenAIMock, startOpenAIMock } from '../helpers/mock-openai.js'

// The Vercel AI SDK (ai 6) reaches the API through its providers' `fetch` option: breakwater's
// fetch goes there, and the SDK's own retries are turned off per call with `maxRetries: 0`.

async function textOf(stream: AsyncIterable<string>): Promise<string> {
  let text = ''
  for await (const piece of stream) text += piece
  return text
}

describe('the AI SDK with the Anthropic provider', () => {
  let mock: AnthropicMock
  let fetch: BreakwaterFetch
  afterEach(async () => {
    await fetch.close()
    await mock.close()
  })

  const connect = async (options: Parameters<typeof anthropic>[0] = {}) => {
    mock = await startAnthropicMock()
    fetch = createFetch(anthropic({ retry: { baseDelay: 1 }, ...options }))
    const provider = createAnthropic({ apiKey: 'sk-test', baseURL: `${mock.url}/v1`, fetch })
    return provider('claude-sonnet-4-6')
  }

  it('generates text through breakwater, surviving a 529', async () => {
    const model = await connect()
    mock.script({ status: 529 })
    const { text } = await generateText({ model, prompt: 'Hello', maxRetries: 0 })
    expect(text).toBe(replyFor(1))
    expect(mock.requests).toHaveLength(2)
    expect(fetch.stats().retries).toBe(1)
  })

  it('streams text through breakwater as it comes', async () => {
    const model = await connect()
    const result = streamText({ model, prompt: 'Hello', maxRetries: 0 })
    expect(await textOf(result.textStream)).toBe(replyFor(0))
    expect((await result.usage).inputTokens).toBeGreaterThan(0)
  })

  it('streams the retry of a 200 that started with overloaded_error, and nothing of it', async () => {
    const model = await connect()
    const overloaded = { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }
    mock.script({ events: [{ event: 'error', data: overloaded }] })
    const errors: unknown[] = []
    const result = streamText({
      model,
      prompt: 'Hello',
      maxRetries: 0,
      onError: ({ error }) => {
        errors.push(error)
      },
    })
    expect(await textOf(result.textStream)).toBe(replyFor(1))
    expect(errors).toEqual([])
    expect(mock.requests).toHaveLength(2)
  })

  it('fails over to the second key when the first is overloaded', async () => {
    const model = await connect({ keys: ['sk-one', 'sk-two'] })
    mock.script(...Array.from({ length: 4 }, () => ({ status: 529 })))
    const { text } = await generateText({ model, prompt: 'Hello', maxRetries: 0 })
    expect(text).toBe(replyFor(4))
    const keys = mock.requests.map((r) => r.headers['x-api-key'])
    // The overloaded key's four attempts, then the other key; the SDK's own key is never sent.
    expect(keys.slice(0, 4).every((k) => k === keys[0])).toBe(true)
    expect(new Set(keys)).toEqual(new Set(['sk-one', 'sk-two']))
    expect(fetch.stats().failovers).toBe(1)
  })

  it("serves a repeated call at temperature 0 from breakwater's cache", async () => {
    const model = await connect()
    const ask = () => generateText({ model, prompt: 'What is 2+2?', temperature: 0, maxRetries: 0 })
    const first = await ask()
    const second = await ask()
    expect(second.text).toBe(first.text)
    expect(mock.requests).toHaveLength(1)
    expect(fetch.stats().cacheHits).toBe(1)
  })
})

describe('the AI SDK with the OpenAI provider', () => {
  let mock: OpenAIMock
  let fetch: BreakwaterFetch
  afterEach(async () => {
    await fetch.close()
    await mock.close()
  })

  const connect = async (options: Parameters<typeof openai>[0] = {}) => {
    mock = await startOpenAIMock()
    fetch = createFetch(openai({ retry: { baseDelay: 1 }, ...options }))
    const provider = createOpenAI({ apiKey: 'sk-test', baseURL: `${mock.url}/v1`, fetch })
    return provider.chat('gpt-4.1-mini')
  }

  it('generates text through breakwater', async () => {
    const model = await connect()
    const { text, usage } = await generateText({ model, prompt: 'Hello', maxRetries: 0 })
    expect(text).toBe(replyFor(0))
    expect(usage.outputTokens).toBeGreaterThan(0)
  })

  it('streams text through breakwater, retrying an error chunk before content', async () => {
    const model = await connect()
    const busy = {
      error: { message: 'The server is overloaded.', type: 'server_error', code: null },
    }
    mock.script({ events: [{ data: busy }] })
    const result = streamText({ model, prompt: 'Hello', maxRetries: 0 })
    expect(await textOf(result.textStream)).toBe(replyFor(1))
    expect(mock.requests).toHaveLength(2)
  })

  it("serves a repeated call at temperature 0 from breakwater's cache", async () => {
    const model = await connect()
    const ask = () => generateText({ model, prompt: 'What is 2+2?', temperature: 0, maxRetries: 0 })
    expect((await ask()).text).toBe((await ask()).text)
    expect(mock.requests).toHaveLength(1)
    expect(fetch.stats().cacheHits).toBe(1)
  })

  it('makes 4 upstream attempts of a failing call with maxRetries: 0, 12 without', async () => {
    // No retry budget: its 10 retries a second would cut the multiplication short.
    const model = await connect({ retry: { baseDelay: 1, budget: false } })
    const unavailable = { status: 503, headers: { 'retry-after-ms': '1' } }
    mock.script(...Array.from({ length: 16 }, () => unavailable))
    const once = await generateText({ model, prompt: 'Hi', maxRetries: 0 }).catch((e: unknown) => e)
    expect(APICallError.isInstance(once)).toBe(true)
    expect(once).toMatchObject({ statusCode: 503 })
    expect(mock.requests).toHaveLength(4)
    // The AI SDK's default, maxRetries: 2, sends each of its 3 attempts through breakwater's 4.
    const multiplied = await generateText({ model, prompt: 'Hi' }).catch((e: unknown) => e)
    expect(RetryError.isInstance(multiplied)).toBe(true)
    expect(mock.requests).toHaveLength(16)
  })

  it("hands a budget refusal to the caller as breakwater's own error, unretried by the SDK", async () => {
    const model = await connect({ rpm: 1, maxWait: 0 })
    await generateText({ model, prompt: 'Hi', maxRetries: 0 })
    const refused = await generateText({ model, prompt: 'Hi' }).catch((e: unknown) => e)
    expect(refused).toBeInstanceOf(RateLimitError)
    expect(isRateLimitError(refused)).toBe(true)
    expect(mock.requests).toHaveLength(1)
  })
})
