import Anthropic from '@anthropic-ai/sdk'
import { GoogleGenAI } from '@google/genai'
import OpenAI from 'openai'
import { afterEach, describe, expect, it } from 'vitest'
import { anthropic, gemini, openai } from '../../src/ai/index.js'
import {
  type BreakwaterFetch,
  breakwaterErrorOf,
  createFetch,
  isTimeoutError,
  TimeoutError,
} from '../../src/index.js'
import { createManualTime, flushMicrotasks } from '../helpers/manual-time.js'
import { type AnthropicMock, startAnthropicMock } from '../helpers/mock-anthropic.js'
import { type GeminiMock, geminiError, startGeminiMock } from '../helpers/mock-gemini.js'
import { replyFor } from '../helpers/mock-llm.js'
import { type OpenAIMock, startOpenAIMock } from '../helpers/mock-openai.js'

const overloaded = {
  event: 'error',
  data: { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } },
}
const messageStart = (id: string) => ({
  event: 'message_start',
  data: {
    type: 'message_start',
    message: {
      id,
      type: 'message',
      role: 'assistant',
      model: 'claude-sonnet-4-6',
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: { input_tokens: 3, output_tokens: 1 },
    },
  },
})
const textStart = {
  event: 'content_block_start',
  data: { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
}
const textDelta = (text: string) => ({
  event: 'content_block_delta',
  data: { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text } },
})
const ask = {
  model: 'claude-sonnet-4-6',
  max_tokens: 64,
  messages: [{ role: 'user' as const, content: 'Hi' }],
}

/** Waits, on the real event loop, until `ready` holds: the sockets move on their own time. */
async function until(ready: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !ready(); i++) {
    await flushMicrotasks()
    await new Promise((resolve) => setTimeout(resolve, 2))
  }
  expect(ready()).toBe(true)
}

describe('Anthropic streams through breakwater', () => {
  let mock: AnthropicMock
  let fetch: BreakwaterFetch
  afterEach(async () => {
    await fetch.close()
    await mock.close()
  })

  const connect = async (options: Parameters<typeof anthropic>[0] = {}, extra = {}) => {
    mock = await startAnthropicMock()
    fetch = createFetch({ ...anthropic({ retry: { baseDelay: 1 }, ...options }), ...extra })
    return new Anthropic({ apiKey: 'sk-test', baseURL: mock.url, fetch, maxRetries: 0 })
  }

  it('retries a 200 whose stream starts with overloaded_error; the caller sees only the retry', async () => {
    const client = await connect()
    mock.script({ events: [overloaded] })
    const stream = client.messages.stream(ask)
    const events: Anthropic.MessageStreamEvent[] = []
    for await (const event of stream) events.push(event)
    const final = await stream.finalMessage()
    expect(final.content).toEqual([{ type: 'text', text: replyFor(1) }])
    expect(final.id).toBe('msg_1')
    expect(events[0]?.type).toBe('message_start')
    expect(events.map((e) => e.type)).not.toContain('error')
    expect(mock.requests).toHaveLength(2)
    expect(fetch.stats().retries).toBe(1)
  })

  it('drops the held start of a failed attempt: an error after message_start and a ping', async () => {
    const client = await connect()
    mock.script({
      events: [messageStart('msg_failed'), { event: 'ping', data: { type: 'ping' } }, overloaded],
    })
    const stream = client.messages.stream(ask)
    const ids: string[] = []
    for await (const event of stream) if (event.type === 'message_start') ids.push(event.message.id)
    expect(ids).toEqual(['msg_1'])
    expect((await stream.finalMessage()).content).toEqual([{ type: 'text', text: replyFor(1) }])
  })

  it("ends the retries with the SDK's OverloadedError (529), as if the API had answered it", async () => {
    const client = await connect({ retry: { maxAttempts: 2, baseDelay: 1 } })
    mock.script({ events: [overloaded] }, { events: [overloaded] })
    const error = await client.messages
      .stream(ask)
      .finalMessage()
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(Anthropic.APIError)
    expect(error).toMatchObject({ status: 529, type: 'overloaded_error' })
    expect((error as { headers?: Headers }).headers?.get('x-breakwater-stream-error')).toBe('true')
    expect(mock.requests).toHaveLength(2)
  })

  it('retries a rate_limit_error before content, which no spend limit sends', async () => {
    const client = await connect()
    const limited = {
      event: 'error',
      data: { type: 'error', error: { type: 'rate_limit_error', message: 'slow down' } },
    }
    mock.script({ events: [limited] })
    expect((await client.messages.stream(ask).finalMessage()).id).toBe('msg_1')
    expect(mock.requests).toHaveLength(2)
  })

  it('opens the breaker on errors before content, like on 529s', async () => {
    const client = await connect(
      { retry: false },
      { breaker: { failureThreshold: 2, halfOpenAfter: 60_000 } },
    )
    mock.script({ events: [overloaded] }, { events: [overloaded] })
    for (let i = 0; i < 2; i++) {
      await expect(client.messages.stream(ask).finalMessage()).rejects.toMatchObject({
        status: 529,
      })
    }
    const third = await client.messages
      .stream(ask)
      .finalMessage()
      .catch((e: unknown) => e)
    expect(third).toBeInstanceOf(Anthropic.APIConnectionError)
    expect((third as Error).cause).toMatchObject({ code: 'CIRCUIT_OPEN' })
    expect(mock.requests).toHaveLength(2)
  })

  it('with cacheStreams, stores the retry of a failed start and replays it whole', async () => {
    const client = await connect({ cacheStreams: true, cacheNonDeterministic: true })
    mock.script({ events: [messageStart('msg_failed'), overloaded] })
    const first = await client.messages.stream(ask).finalMessage()
    const second = await client.messages.stream(ask).finalMessage()
    expect(first.id).toBe('msg_1')
    expect(second).toEqual(first)
    expect(mock.requests).toHaveLength(2)
    expect(fetch.stats()).toMatchObject({ cacheHits: 1, streamErrors: 1 })
  })

  it('passes an error after content through to the caller: it cannot be taken back', async () => {
    const client = await connect()
    mock.script({ events: [messageStart('msg_0'), textStart, textDelta('Calm '), overloaded] })
    const stream = client.messages.stream(ask)
    await expect(stream.finalMessage()).rejects.toMatchObject({ type: 'overloaded_error' })
    expect(mock.requests).toHaveLength(1)
  })

  it('ends a stream that stalls after its content with TimeoutError, which the SDK passes on', async () => {
    const time = createManualTime()
    const client = await connect({ streamIdleTimeout: 30_000 }, { clock: time, timers: time })
    mock.script(
      { events: [messageStart('msg_0'), textStart, textDelta('Calm ')], stall: true },
      { events: [messageStart('msg_1'), textStart, textDelta('Calm ')], stall: true },
    )
    const texts: string[] = []
    const read = async (events: AsyncIterable<Anthropic.MessageStreamEvent>) => {
      for await (const event of events) {
        if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') {
          texts.push(event.delta.text)
        }
      }
    }
    // The raw stream of `create` lets the body's error through as it is.
    const raw = read(await client.messages.create({ ...ask, stream: true })).catch(
      (e: unknown) => e,
    )
    await until(() => texts.length === 1 && time.pending === 1)
    await time.advance(29_999)
    expect(time.pending).toBe(1)
    await time.advance(1)
    const error = await raw
    expect(error).toBeInstanceOf(TimeoutError)
    expect(error).toMatchObject({ code: 'TIMEOUT', timeout: 30_000 })
    // The `stream` helper wraps it in an AnthropicError whose cause it is.
    const helper = read(client.messages.stream(ask)).catch((e: unknown) => e)
    await until(() => texts.length === 2 && time.pending === 1)
    await time.advance(30_000)
    const wrapped = await helper
    expect(wrapped).toBeInstanceOf(Anthropic.AnthropicError)
    expect(isTimeoutError(wrapped)).toBe(true)
    expect(breakwaterErrorOf(wrapped)).toBeInstanceOf(TimeoutError)
    expect(fetch.stats()).toMatchObject({ timeouts: 2, retries: 0 })
  })

  it('retries a stream that stalls before its content, and the caller sees only the retry', async () => {
    const time = createManualTime()
    const client = await connect(
      { streamIdleTimeout: 30_000, retry: { baseDelay: 10, maxDelay: 10, jitter: 'none' } },
      { clock: time, timers: time },
    )
    mock.script({ events: [messageStart('msg_stalled')], stall: true })
    const final = client.messages.stream(ask).finalMessage()
    // Two timers: the attempt's `timeout`, which runs to the commit, and the idle one.
    await until(() => mock.requests.length === 1 && time.pending === 2)
    await time.advance(30_000)
    await until(() => time.pending === 1)
    await time.advance(10)
    const message = await final
    expect(message.id).toBe('msg_1')
    expect(message.content).toEqual([{ type: 'text', text: replyFor(1) }])
    expect(fetch.stats()).toMatchObject({ retries: 1, timeouts: 1 })
  })
})

describe('OpenAI streams through breakwater', () => {
  let mock: OpenAIMock
  let fetch: BreakwaterFetch
  afterEach(async () => {
    await fetch.close()
    await mock.close()
  })

  const connect = async (options: Parameters<typeof openai>[0] = {}) => {
    mock = await startOpenAIMock()
    fetch = createFetch(openai({ retry: { baseDelay: 1 }, ...options }))
    return new OpenAI({ apiKey: 'sk-test', baseURL: `${mock.url}/v1`, fetch, maxRetries: 0 })
  }
  const chunk = (delta: object) => ({
    data: {
      id: 'chatcmpl-failed',
      object: 'chat.completion.chunk',
      created: 0,
      model: 'gpt-4.1-mini',
      choices: [{ index: 0, delta, finish_reason: null }],
    },
  })
  const streamError = {
    data: { error: { message: 'The server is overloaded.', type: 'server_error', code: null } },
  }
  const params = {
    model: 'gpt-4.1-mini',
    messages: [{ role: 'user' as const, content: 'Hi' }],
    stream: true as const,
  }

  it('retries a stream whose error chunk comes before content; the caller sees only the retry', async () => {
    const client = await connect()
    mock.script({ events: [chunk({ role: 'assistant', content: '' }), streamError] })
    const stream = await client.chat.completions.create(params)
    const ids = new Set<string>()
    let text = ''
    for await (const part of stream) {
      ids.add(part.id)
      text += part.choices[0]?.delta.content ?? ''
    }
    expect(text).toBe(replyFor(1))
    expect([...ids]).toEqual(['chatcmpl-1'])
    expect(mock.requests).toHaveLength(2)
    expect(fetch.stats().retries).toBe(1)
  })

  it("ends the retries with the SDK's status error, read from the error chunk", async () => {
    const client = await connect({ retry: { maxAttempts: 2, baseDelay: 1 } })
    mock.script({ events: [streamError] }, { events: [streamError] })
    const error = await client.chat.completions.create(params).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(OpenAI.InternalServerError)
    expect(error).toMatchObject({ status: 500, message: expect.stringContaining('overloaded') })
    expect(mock.requests).toHaveLength(2)
  })

  it('ends a stream that stalls after its content with TimeoutError itself', async () => {
    const time = createManualTime()
    mock = await startOpenAIMock()
    fetch = createFetch({
      ...openai({ streamIdleTimeout: 5_000 }),
      clock: time,
      timers: time,
    })
    const client = new OpenAI({
      apiKey: 'sk-test',
      baseURL: `${mock.url}/v1`,
      fetch,
      maxRetries: 0,
    })
    mock.script({ events: [chunk({ role: 'assistant', content: 'Calm ' })], stall: true })
    let text = ''
    const reading = (async () => {
      for await (const part of await client.chat.completions.create(params)) {
        text += part.choices[0]?.delta.content ?? ''
      }
    })().catch((e: unknown) => e)
    await until(() => text === 'Calm ' && time.pending === 1)
    await time.advance(5_000)
    expect(await reading).toBeInstanceOf(TimeoutError)
  })

  it('does not retry an insufficient_quota error chunk: no wait cures it', async () => {
    const client = await connect()
    const quota = {
      data: { error: { message: 'quota', type: 'insufficient_quota', code: 'insufficient_quota' } },
    }
    mock.script({ events: [quota] })
    await expect(client.chat.completions.create(params)).rejects.toBeInstanceOf(
      OpenAI.RateLimitError,
    )
    expect(mock.requests).toHaveLength(1)
  })
})

describe('Gemini streams through breakwater', () => {
  let mock: GeminiMock
  let fetch: BreakwaterFetch
  afterEach(async () => {
    await fetch.close()
    await mock.close()
  })

  const connect = async (options: Parameters<typeof gemini>[0] = {}, extra = {}) => {
    mock = await startGeminiMock()
    fetch = createFetch({ ...gemini({ retry: { baseDelay: 1 }, ...options }), ...extra })
    return new GoogleGenAI({ apiKey: 'test-key', httpOptions: { baseUrl: mock.url, fetch } })
  }
  const ask = { model: 'gemini-2.0-flash', contents: 'Hi' }
  const busy = { data: geminiError(503, [], 'The model is overloaded.') }

  it("ends the retries with the SDK's ApiError of the error chunk's code", async () => {
    const ai = await connect({ retry: { maxAttempts: 2, baseDelay: 1 } })
    mock.script({ events: [busy] }, { events: [busy] })
    await expect(ai.models.generateContentStream(ask)).rejects.toMatchObject({
      name: 'ApiError',
      status: 503,
    })
    expect(mock.requests).toHaveLength(2)
  })

  it('ends a stream that stalls after its content with TimeoutError itself', async () => {
    const time = createManualTime()
    const ai = await connect({ streamIdleTimeout: 5_000 }, { clock: time, timers: time })
    const part = { candidates: [{ content: { parts: [{ text: 'Calm ' }], role: 'model' } }] }
    mock.script({ events: [{ data: part }], stall: true })
    let text = ''
    const reading = (async () => {
      for await (const chunk of await ai.models.generateContentStream(ask)) text += chunk.text ?? ''
    })().catch((e: unknown) => e)
    await until(() => text === 'Calm ' && time.pending === 1)
    await time.advance(5_000)
    expect(await reading).toBeInstanceOf(TimeoutError)
  })

  it('retries a stream whose first chunk is an error; the caller sees only the retry', async () => {
    const ai = await connect()
    mock.script({ events: [busy] })
    let text = ''
    const stream = await ai.models.generateContentStream(ask)
    for await (const chunk of stream) text += chunk.text ?? ''
    expect(text).toBe(replyFor(1))
    expect(mock.requests).toHaveLength(2)
    expect(fetch.stats().retries).toBe(1)
  })
})
