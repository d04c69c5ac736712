import Anthropic from '@anthropic-ai/sdk'
import OpenAI from 'openai'
import { afterEach, describe, expect, it } from 'vitest'
import { anthropic, openai } from '../../src/ai/index.js'
import { wrap } from '../../src/index.js'
import { type AnthropicMock, startAnthropicMock } from '../helpers/mock-anthropic.js'
import { insufficientQuota, type OpenAIMock, startOpenAIMock } from '../helpers/mock-openai.js'

// The presets also serve `wrap`: what the SDK throws carries the status, headers and body.
describe('presets with wrap around an SDK call', () => {
  let mocks: (AnthropicMock | OpenAIMock)[] = []
  let closers: (() => Promise<void>)[] = []
  afterEach(async () => {
    await Promise.all(closers.map((close) => close()))
    await Promise.all(mocks.map((m) => m.close()))
    mocks = []
    closers = []
  })

  it('retries what the Anthropic SDK throws for a 529, and caches when opted in', async () => {
    const mock = await startAnthropicMock()
    mocks.push(mock)
    const client = new Anthropic({ apiKey: 'k', baseURL: mock.url, maxRetries: 0 })
    const create = wrap(
      (params: Anthropic.MessageCreateParamsNonStreaming) => client.messages.create(params),
      {
        ...anthropic({
          cacheNonDeterministic: true,
          inputTpm: 10_000,
          outputTpm: 10_000,
          retry: { baseDelay: 10 },
        }),
      },
    )
    closers.push(create.close)
    mock.script({ status: 529 })
    const params = {
      model: 'm',
      max_tokens: 32,
      messages: [{ role: 'user' as const, content: 'hi' }],
    }
    const first = await create(params)
    const second = await create(params)
    expect(second.id).toBe(first.id)
    expect(mock.requests).toHaveLength(2)
    expect(create.stats()).toMatchObject({ retries: 1, cacheHits: 1 })
  })

  it('does not retry an insufficient_quota error thrown by the OpenAI SDK', async () => {
    const mock = await startOpenAIMock()
    mocks.push(mock)
    const client = new OpenAI({ apiKey: 'k', baseURL: `${mock.url}/v1`, maxRetries: 0 })
    const create = wrap(
      (params: OpenAI.ChatCompletionCreateParamsNonStreaming) =>
        client.chat.completions.create(params),
      {
        ...openai({ retry: { baseDelay: 10 } }),
      },
    )
    closers.push(create.close)
    mock.script(
      { status: 429, headers: { 'retry-after-ms': '10' }, body: insufficientQuota },
      { status: 429, headers: { 'retry-after-ms': '10' } },
    )
    const params = { model: 'm', messages: [{ role: 'user' as const, content: 'hi' }] }
    await expect(create(params)).rejects.toMatchObject({ status: 429, code: 'insufficient_quota' })
    expect(mock.requests).toHaveLength(1)
    // A rate-limit 429 is retried.
    await create(params)
    expect(mock.requests).toHaveLength(3)
  })
})
