import Anthropic from '@anthropic-ai/sdk'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { anthropic } from '../../src/ai/index.js'
import { type BreakwaterEvent, type BreakwaterFetch, createFetch } from '../../src/index.js'
import { type AnthropicMock, startAnthropicMock } from '../helpers/mock-anthropic.js'
import { replyFor } from '../helpers/mock-llm.js'

const model = 'claude-sonnet-4-5'
const ask = (text: string) => ({
  model,
  max_tokens: 64,
  messages: [{ role: 'user' as const, content: text }],
})
const textOf = (message: Anthropic.Message) =>
  message.content.map((block) => (block.type === 'text' ? block.text : '')).join('')
const overloaded = (n: number) => Array.from({ length: n }, () => ({ status: 529 }))
/** A 200 whose stream opens with Anthropic's overloaded error, before any content. */
const overloadedStart = (n: number) =>
  Array.from({ length: n }, () => ({
    events: [
      {
        event: 'error',
        data: { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } },
      },
    ],
  }))

describe('an Anthropic pool through the Anthropic SDK', () => {
  let first: AnthropicMock
  let second: AnthropicMock
  let fetch: BreakwaterFetch
  let events: BreakwaterEvent[]
  const served = () => events.flatMap((e) => (e.type === 'served' ? [e.via] : []))

  const connect = (options: Parameters<typeof anthropic>[0]) => {
    events = []
    fetch = createFetch({
      ...anthropic({ retry: { baseDelay: 1, maxDelay: 2 }, ...options }),
      onEvent: (e) => events.push(e),
    })
    return new Anthropic({ apiKey: 'sk-sdk', baseURL: first.url, fetch, maxRetries: 0 })
  }

  beforeEach(async () => {
    ;[first, second] = await Promise.all([startAnthropicMock(), startAnthropicMock()])
  })
  afterEach(async () => {
    await fetch?.close()
    await Promise.all([first.close(), second.close()])
  })

  it('answers messages.create and messages.stream from the second target while the first is overloaded', async () => {
    const client = connect({
      pool: {
        targets: [{ name: 'first', origin: first.url }],
        fallbacks: [{ name: 'second', origin: second.url }],
      },
    })
    first.script(...overloaded(20))
    const message = await client.messages.create(ask('Hello'))
    expect(textOf(message)).toBe(replyFor(0))
    // Its own four attempts on the first target, then the second.
    expect(first.requests).toHaveLength(4)
    expect(second.requests).toHaveLength(1)

    const stream = client.messages.stream(ask('Stream'))
    const final = await stream.finalMessage()
    expect(textOf(final)).toBe(replyFor(1))
    // The first target is cooling down: the stream went to the second at once.
    expect(first.requests).toHaveLength(4)
    expect(second.requests).toHaveLength(2)

    expect(served()).toEqual(['second', 'second'])
    expect(events.find((e) => e.type === 'failover')).toMatchObject({
      via: 'first',
      reason: 'status 529',
    })
    expect(fetch.stats()).toMatchObject({ failovers: 1, servedBy: { first: 0, second: 2 } })
    // One idempotency key for every attempt of the call, on both targets.
    const keys = new Set(
      [...first.requests, second.requests[0]].map((r) => r?.headers['idempotency-key']),
    )
    expect(keys.size).toBe(1)
  })

  it("streams from the second target when the first is overloaded at the stream's request", async () => {
    const client = connect({
      pool: {
        targets: [{ name: 'first', origin: first.url }],
        fallbacks: [{ name: 'second', origin: second.url }],
      },
    })
    first.script(...overloaded(4))
    const stream = client.messages.stream(ask('Stream'))
    const texts: string[] = []
    stream.on('text', (text) => texts.push(text))
    const final = await stream.finalMessage()
    expect(textOf(final)).toBe(replyFor(0))
    expect(texts.join('')).toBe(replyFor(0))
    expect(served()).toEqual(['second'])
  })

  it('answers from the second target when every stream of the first starts with overloaded_error', async () => {
    const client = connect({
      pool: {
        targets: [{ name: 'first', origin: first.url }],
        fallbacks: [{ name: 'second', origin: second.url }],
      },
    })
    first.script(...overloadedStart(20))
    const stream = client.messages.stream(ask('Stream'))
    const texts: string[] = []
    stream.on('text', (text) => texts.push(text))
    const final = await stream.finalMessage()
    // The caller's stream is the second target's, whole: nothing of the failed starts.
    expect(textOf(final)).toBe(replyFor(0))
    expect(texts.join('')).toBe(replyFor(0))
    expect(first.requests).toHaveLength(4)
    expect(second.requests).toHaveLength(1)

    const message = await client.messages.create({ ...ask('Again'), stream: false })
    expect(textOf(message)).toBe(replyFor(1))
    expect(served()).toEqual(['second', 'second'])
    expect(events.find((e) => e.type === 'failover')).toMatchObject({ via: 'first' })
    expect(fetch.stats()).toMatchObject({ failovers: 1, servedBy: { first: 0, second: 2 } })
  })

  it('spreads calls over several keys and moves on to another key when one is overloaded', async () => {
    const client = connect({ keys: ['sk-one', 'sk-two'] })
    first.script(...overloaded(4))
    const message = await client.messages.create(ask('Hello'))
    expect(textOf(message)).toBe(replyFor(4))
    const keys = first.requests.map((r) => r.headers['x-api-key'])
    // The SDK's own key is never sent; the overloaded key's four attempts, then the other.
    expect(keys.slice(0, 4).every((k) => k === keys[0])).toBe(true)
    expect(keys[4]).not.toBe(keys[0])
    expect(new Set(keys)).toEqual(new Set(['sk-one', 'sk-two']))
    const failed = keys[0] === 'sk-one' ? 'key-1' : 'key-2'
    const other = failed === 'key-1' ? 'key-2' : 'key-1'
    expect(served()).toEqual([other])
    expect(fetch.stats().servedBy).toEqual({ [failed]: 0, [other]: 1 })
  })

  it("falls back to a second model, rewriting the request's model", async () => {
    const client = connect({ fallbackModels: ['claude-haiku-4-5'] })
    first.script(...overloaded(4))
    const message = await client.messages.create(ask('Hello'))
    expect(message.model).toBe('claude-haiku-4-5')
    const models = first.requests.map((r) => (JSON.parse(r.body) as { model: string }).model)
    expect(models).toEqual([model, model, model, model, 'claude-haiku-4-5'])
    expect(served()).toEqual(['model:claude-haiku-4-5'])
  })
})
