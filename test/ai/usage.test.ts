import { describe, expect, it } from 'vitest'
import { readStreamUsage, readUsage, usageOf } from '../../src/ai/usage.js'
import { httpOutcome } from '../helpers/call.js'

const sse = (events: { event?: string; data: unknown }[]) =>
  events
    .map(
      ({ event, data }) =>
        `${event ? `event: ${event}\n` : ''}data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`,
    )
    .join('')

describe('readUsage', () => {
  it('reads Anthropic usage, cache writes counted as input', () => {
    expect(readUsage({ usage: { input_tokens: 10, output_tokens: 5 } })).toEqual({
      input: 10,
      output: 5,
    })
    expect(
      readUsage({
        usage: {
          input_tokens: 10,
          cache_creation_input_tokens: 90,
          cache_read_input_tokens: 500,
          output_tokens: 5,
        },
      }),
    ).toEqual({ input: 100, output: 5 })
  })

  it('reads OpenAI chat and responses usage', () => {
    expect(
      readUsage({ usage: { prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 } }),
    ).toEqual({ input: 7, output: 3 })
    expect(readUsage({ usage: { input_tokens: 7, output_tokens: 3 } })).toEqual({
      input: 7,
      output: 3,
    })
  })

  it('reads Gemini usageMetadata, thoughts counted as output', () => {
    expect(
      readUsage({
        usageMetadata: { promptTokenCount: 8, candidatesTokenCount: 4, thoughtsTokenCount: 6 },
      }),
    ).toEqual({
      input: 8,
      output: 10,
    })
  })

  it('is undefined for an answer without usage', () => {
    expect(readUsage({ id: 'x' })).toBeUndefined()
    expect(readUsage('text')).toBeUndefined()
    expect(readUsage({ usage: { input_tokens: -1 } })).toBeUndefined()
  })
})

describe('readStreamUsage', () => {
  it('joins Anthropic’s message_start input with the last message_delta output', () => {
    const text = sse([
      {
        event: 'message_start',
        data: { type: 'message_start', message: { usage: { input_tokens: 12, output_tokens: 1 } } },
      },
      { event: 'ping', data: { type: 'ping' } },
      { event: 'message_delta', data: { type: 'message_delta', usage: { output_tokens: 40 } } },
      { event: 'message_stop', data: { type: 'message_stop' } },
    ])
    expect(readStreamUsage(text)).toEqual({ input: 12, output: 40 })
  })

  it('reads OpenAI’s last usage chunk and skips [DONE]', () => {
    const text = sse([
      { data: { choices: [{ delta: { content: 'a' } }] } },
      { data: { choices: [], usage: { prompt_tokens: 5, completion_tokens: 2 } } },
      { data: '[DONE]' },
    ])
    expect(readStreamUsage(text)).toEqual({ input: 5, output: 2 })
  })

  it('reads the usage of an OpenAI responses stream from response.completed', () => {
    const text = sse([
      {
        event: 'response.completed',
        data: {
          type: 'response.completed',
          response: { usage: { input_tokens: 3, output_tokens: 9 } },
        },
      },
    ])
    expect(readStreamUsage(text)).toEqual({ input: 3, output: 9 })
  })

  it('is undefined for a stream that never reports usage', () => {
    expect(readStreamUsage(sse([{ data: { choices: [] } }, { data: '[DONE]' }]))).toBeUndefined()
  })
})

describe('usageOf', () => {
  it('reads a JSON answer, an event stream by its content-type, and a wrapped value', () => {
    const json = httpOutcome(200, JSON.stringify({ usage: { input_tokens: 1, output_tokens: 2 } }))
    expect(usageOf(json)).toEqual({ input: 1, output: 2 })
    const stream = httpOutcome(
      200,
      sse([{ data: { usageMetadata: { promptTokenCount: 4, candidatesTokenCount: 1 } } }]),
      [['content-type', 'text/event-stream']],
    )
    expect(usageOf(stream)).toEqual({ input: 4, output: 1 })
    expect(
      usageOf({ kind: 'value', value: { usage: { prompt_tokens: 2, completion_tokens: 2 } } }),
    ).toEqual({
      input: 2,
      output: 2,
    })
  })

  it('is undefined for a body that is not JSON', () => {
    expect(usageOf(httpOutcome(200, 'oops'))).toBeUndefined()
  })
})
