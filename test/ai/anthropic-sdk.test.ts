import Anthropic from '@anthropic-ai/sdk'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { anthropic } from '../../src/ai/index.js'
import { type BreakwaterFetch, createFetch } from '../../src/index.js'
import {
  type AnthropicMock,
  anthropicError,
  startAnthropicMock,
} from '../helpers/mock-anthropic.js'
import { replyFor } from '../helpers/mock-llm.js'

const model = 'claude-sonnet-4-5'
const ask = (text: string, extra: Partial<Anthropic.MessageCreateParamsNonStreaming> = {}) => ({
  model,
  max_tokens: 64,
  messages: [{ role: 'user' as const, content: text }],
  ...extra,
})
const textOf = (message: Anthropic.Message) =>
  message.content.map((block) => (block.type === 'text' ? block.text : '')).join('')

describe('anthropic preset with the Anthropic SDK', () => {
  let mock: AnthropicMock
  let fetch: BreakwaterFetch
  let client: Anthropic

  const connect = (options: Parameters<typeof anthropic>[0] = {}) => {
    fetch = createFetch({ ...anthropic({ retry: { baseDelay: 10 }, ...options }) })
    client = new Anthropic({ apiKey: 'sk-test', baseURL: mock.url, fetch, maxRetries: 0 })
  }

  beforeEach(async () => {
    mock = await startAnthropicMock()
  })
  afterEach(async () => {
    await fetch?.close()
    await mock.close()
  })

  it('survives a 429, a 529 and a 503, sending one idempotency key on every attempt', async () => {
    connect()
    mock.script({ status: 429, headers: { 'retry-after': '1' } }, { status: 529 }, { status: 503 })
    const started = performance.now()
    const message = await client.messages.create(ask('Hello'))
    expect(textOf(message)).toBe(replyFor(3))
    expect(mock.requests).toHaveLength(4)
    const keys = new Set(mock.requests.map((r) => r.headers['idempotency-key']))
    expect(keys.size).toBe(1)
    expect([...keys][0]).toMatch(/^[0-9a-f-]{36}$/)
    // The 429 asked for a second; breakwater waited it rather than its own short backoff.
    expect(performance.now() - started).toBeGreaterThanOrEqual(990)
    expect(fetch.stats().retries).toBe(3)
  })

  it('gives each new call a new idempotency key', async () => {
    connect()
    await client.messages.create(ask('one'))
    await client.messages.create(ask('two'))
    const [a, b] = mock.requests.map((r) => r.headers['idempotency-key'])
    expect(a).toBeDefined()
    expect(a).not.toBe(b)
  })

  it('does not retry a spend-limit 429, which has no retry-after', async () => {
    connect()
    mock.script({
      status: 429,
      body: anthropicError(429, 'You have reached your specified workspace API usage limits.'),
    })
    await expect(client.messages.create(ask('Hello'))).rejects.toMatchObject({ status: 429 })
    expect(mock.requests).toHaveLength(1)
    expect(fetch.stats().retries).toBe(0)
  })

  // The Messages API of SDK 1.x takes no `temperature`: no call says it is deterministic, so
  // the cache takes Anthropic calls only when the application opts in.
  it('serves a repeated call from the cache when opted in, with one upstream call', async () => {
    connect({ cacheNonDeterministic: true })
    const first = await client.messages.create(ask('What is 2+2?'))
    const second = await client.messages.create(ask('What is 2+2?'))
    expect(textOf(second)).toBe(textOf(first))
    expect(mock.requests).toHaveLength(1)
    expect(fetch.stats().cacheHits).toBe(1)
  })

  it('sends every call that samples, and never merges two of them', async () => {
    connect()
    const [a, b] = await Promise.all([
      client.messages.create(ask('Tell me a story')),
      client.messages.create(ask('Tell me a story')),
    ])
    await client.messages.create(ask('Tell me a story'))
    expect(mock.requests).toHaveLength(3)
    expect(textOf(a)).not.toBe(textOf(b))
    expect(fetch.stats().coalesced).toBe(0)
  })

  it('streams events through breakwater as they come, uncached by default', async () => {
    connect({ cacheNonDeterministic: true })
    for (let i = 0; i < 2; i++) {
      const stream = await client.messages.create({
        ...ask('Stream'),
        stream: true,
      })
      let text = ''
      for await (const event of stream) {
        if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') {
          text += event.delta.text
        }
      }
      expect(text).toBe(replyFor(i))
    }
    expect(mock.requests).toHaveLength(2)
  })

  it('with cacheStreams, replays a finished stream as the same events', async () => {
    connect({ cacheStreams: true, cacheNonDeterministic: true })
    const read = async () => {
      const stream = client.messages.stream(ask('Stream'))
      const final = await stream.finalMessage()
      return { text: textOf(final), usage: final.usage }
    }
    const first = await read()
    const second = await read()
    expect(first.text).toBe(replyFor(0))
    expect(second).toEqual(first)
    expect(mock.requests).toHaveLength(1)
  })

  it('never exceeds the input token quota: the call that would is held back', async () => {
    await mock.close()
    mock = await startAnthropicMock({ inputTpm: 640 })
    connect({ inputTpm: 640 })
    // 50 tokens each by the mock's count (188 characters, 3 of framing), 51 by breakwater's
    // estimate: 12 fit the quota; sent at once, the mock would refuse the 13th.
    const prompt = (i: number) => `${String(i).padStart(2, '0')} ${'x'.repeat(185)}`
    const replies = await Promise.all(
      Array.from({ length: 13 }, (_, i) => client.messages.create(ask(prompt(i)))),
    )
    expect(replies).toHaveLength(13)
    expect(mock.quotas.input?.refused).toBe(0)
    expect(fetch.stats().throttled).toBe(1)
  })

  it('holds max_tokens of output while a call runs and settles it from usage', async () => {
    await mock.close()
    mock = await startAnthropicMock({ outputTpm: 600 })
    connect({ outputTpm: 600, maxWait: 2_000 })
    // Each wave reserves 6 × 64 of the 600 output tokens; unsettled, the second wave would wait
    // for 20 s. Each call writes 9 tokens, so 55 of each reservation come back at its end.
    for (let wave = 0; wave < 3; wave++) {
      await Promise.all(Array.from({ length: 6 }, () => client.messages.create(ask('Hi'))))
    }
    expect(mock.requests).toHaveLength(18)
    expect(mock.quotas.output?.refused).toBe(0)
    expect(fetch.stats().throttled).toBe(0)
  })
})

describe('anthropic preset with createFetch alone', () => {
  let mock: AnthropicMock
  let fetch: BreakwaterFetch
  beforeEach(async () => {
    mock = await startAnthropicMock()
    fetch = createFetch(anthropic())
  })
  afterEach(async () => {
    await fetch.close()
    await mock.close()
  })

  it('never stores a 200 whose body is an error', async () => {
    mock.script({ status: 200, body: anthropicError(529, 'Overloaded') })
    const send = () =>
      fetch(`${mock.url}/v1/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': 'k' },
        body: JSON.stringify({ ...ask('Hi'), temperature: 0 }),
      })
    expect(((await (await send()).json()) as { type: string }).type).toBe('error')
    expect(((await (await send()).json()) as { type: string }).type).toBe('message')
    expect(((await (await send()).json()) as { type: string }).type).toBe('message')
    expect(mock.requests).toHaveLength(2)
  })

  it('keeps two API keys apart in the cache', async () => {
    const send = (key: string) =>
      fetch(`${mock.url}/v1/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': key },
        body: JSON.stringify({ ...ask('Hi'), temperature: 0 }),
      }).then((r) => r.text())
    await send('a')
    await send('b')
    await send('a')
    expect(mock.requests).toHaveLength(2)
  })
})
