import Anthropic from '@anthropic-ai/sdk'
import OpenAI from 'openai'
import { afterEach, describe, expect, expectTypeOf, it } from 'vitest'
import { anthropic, openai } from '../../src/ai/index.js'
import { type BreakwaterFetch, type BreakwaterFetchOptions, createFetch } from '../../src/index.js'
import { startAnthropicMock } from '../helpers/mock-anthropic.js'
import type { LlmServer } from '../helpers/mock-llm.js'
import { startOpenAIMock } from '../helpers/mock-openai.js'
import { delay } from '../helpers/upstream.js'

// Every `fetchOptions: { breakwater }` below is a literal, with no cast: tsc (npm test) checks
// that the SDKs' types take it, which they refused (TS2353) before src/fetch-options.ts.
describe('per-call options through the SDKs fetchOptions', () => {
  let mock: LlmServer | undefined
  let fetch: BreakwaterFetch | undefined
  afterEach(async () => {
    await fetch?.close()
    await mock?.close()
  })

  it('gives one Anthropic call a ttl of its own, past the instance cache.ttl', async () => {
    mock = await startAnthropicMock()
    fetch = createFetch(anthropic({ cacheNonDeterministic: true, cache: { ttl: 20 } }))
    const client = new Anthropic({ apiKey: 'sk-test', baseURL: mock.url, fetch, maxRetries: 0 })
    const params = {
      model: 'claude-sonnet-4-6',
      max_tokens: 64,
      messages: [{ role: 'user' as const, content: 'Hello' }],
    }
    await client.messages.create(params, { fetchOptions: { breakwater: { ttl: 60_000 } } })
    await delay(60) // past cache.ttl, within the call's own ttl
    await client.messages.create(params)
    expect(mock.requests).toHaveLength(1)
    expect(fetch.stats().cacheHits).toBe(1)
  })

  it('sends the idempotency key an Anthropic call names', async () => {
    mock = await startAnthropicMock()
    fetch = createFetch(anthropic())
    const client = new Anthropic({ apiKey: 'sk-test', baseURL: mock.url, fetch, maxRetries: 0 })
    await client.messages.create(
      { model: 'claude-sonnet-4-6', max_tokens: 64, messages: [{ role: 'user', content: 'Hi' }] },
      { fetchOptions: { breakwater: { idempotencyKey: 'order-42' } } },
    )
    expect(mock.requests[0]?.headers['idempotency-key']).toBe('order-42')
  })

  it('keeps one deterministic OpenAI call out of the cache', async () => {
    mock = await startOpenAIMock()
    fetch = createFetch(openai())
    const client = new OpenAI({
      apiKey: 'sk-test',
      baseURL: `${mock.url}/v1`,
      fetch,
      maxRetries: 0,
    })
    const params = {
      model: 'gpt-4.1-mini',
      temperature: 0,
      messages: [{ role: 'user' as const, content: 'Hello' }],
    }
    await client.chat.completions.create(params)
    await client.chat.completions.create(params)
    expect(mock.requests).toHaveLength(1)
    await client.chat.completions.create(params, { fetchOptions: { breakwater: { cache: false } } })
    expect(mock.requests).toHaveLength(2)
  })

  it('takes the options from a variable typed BreakwaterFetchOptions', async () => {
    mock = await startOpenAIMock()
    fetch = createFetch(openai())
    const client = new OpenAI({
      apiKey: 'sk-test',
      baseURL: `${mock.url}/v1`,
      fetch,
      maxRetries: 0,
    })
    const fetchOptions: BreakwaterFetchOptions = { breakwater: { idempotencyKey: 'chat-7' } }
    await client.chat.completions.create(
      { model: 'gpt-4.1-mini', messages: [{ role: 'user', content: 'Hi' }] },
      { fetchOptions },
    )
    expect(mock.requests[0]?.headers['idempotency-key']).toBe('chat-7')
    expectTypeOf<BreakwaterFetchOptions>().toExtend<RequestInit>()
  })
})
