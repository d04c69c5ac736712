import { describe, expect, it } from 'vitest'
import {
  anthropicStreamCommit,
  geminiStreamCommit,
  openaiStreamCommit,
} from '../../src/ai/index.js'

const ev = (event: string, data: unknown) => ({
  event,
  data: typeof data === 'string' ? data : JSON.stringify(data),
})
const data = (value: unknown) => ev('message', value)

describe('anthropicStreamCommit', () => {
  const error = (type: string) => ({ type: 'error', error: { type, message: type } })

  it('fails on an error event with the status of its type', () => {
    expect(anthropicStreamCommit(ev('error', error('overloaded_error')))).toEqual({
      status: 529,
      body: error('overloaded_error'),
    })
    expect(anthropicStreamCommit(ev('error', error('rate_limit_error')))).toMatchObject({
      status: 429,
    })
    expect(anthropicStreamCommit(ev('error', error('something_new')))).toMatchObject({
      status: 500,
    })
    expect(anthropicStreamCommit(data(error('api_error')))).toMatchObject({ status: 500 })
  })

  it('holds the start, pings and empty blocks; commits on content or the end', () => {
    const start = { type: 'message_start', message: { content: [] } }
    expect(anthropicStreamCommit(ev('message_start', start))).toBe('hold')
    expect(anthropicStreamCommit(ev('ping', { type: 'ping' }))).toBe('hold')
    const empty = { type: 'content_block_start', content_block: { type: 'text', text: '' } }
    expect(anthropicStreamCommit(ev('content_block_start', empty))).toBe('hold')
    const tool = { type: 'content_block_start', content_block: { type: 'tool_use', input: {} } }
    expect(anthropicStreamCommit(ev('content_block_start', tool))).toBe('hold')
    expect(anthropicStreamCommit(ev('content_block_stop', {}))).toBe('hold')
    expect(anthropicStreamCommit(ev('content_block_delta', { type: 'content_block_delta' }))).toBe(
      'commit',
    )
    expect(anthropicStreamCommit(ev('message_delta', {}))).toBe('commit')
    expect(anthropicStreamCommit(ev('message_stop', {}))).toBe('commit')
  })

  it('commits on a block or a start that arrives with its content', () => {
    const result = {
      type: 'content_block_start',
      content_block: { type: 'web_search_tool_result', content: [] },
    }
    expect(anthropicStreamCommit(ev('content_block_start', result))).toBe('commit')
    const filled = { type: 'message_start', message: { content: [{ type: 'tool_use' }] } }
    expect(anthropicStreamCommit(ev('message_start', filled))).toBe('commit')
  })
})

describe('openaiStreamCommit', () => {
  const chunk = (delta: object, finish: string | null = null) => ({
    object: 'chat.completion.chunk',
    choices: [{ index: 0, delta, finish_reason: finish }],
  })

  it('holds a role-only chat chunk and commits on content, a tool call or the end', () => {
    expect(openaiStreamCommit(data(chunk({ role: 'assistant', content: '' })))).toBe('hold')
    expect(openaiStreamCommit(data({ choices: [] }))).toBe('hold')
    expect(openaiStreamCommit(data(chunk({ content: 'Hi' })))).toBe('commit')
    expect(openaiStreamCommit(data(chunk({ tool_calls: [{ index: 0 }] })))).toBe('commit')
    expect(openaiStreamCommit(data(chunk({ content: null, reasoning_content: 'Hm' })))).toBe(
      'commit',
    )
    expect(openaiStreamCommit(data(chunk({ role: 'assistant', refusal: null })))).toBe('hold')
    expect(openaiStreamCommit(data(chunk({}, 'stop')))).toBe('commit')
    expect(openaiStreamCommit(data({ choices: [], usage: { prompt_tokens: 1 } }))).toBe('commit')
    expect(openaiStreamCommit(data('[DONE]'))).toBe('commit')
  })

  it('fails on a chat error chunk with the status of its code', () => {
    const quota = { error: { type: 'insufficient_quota', code: 'insufficient_quota' } }
    expect(openaiStreamCommit(data(quota))).toEqual({ status: 429, body: quota })
    expect(openaiStreamCommit(data({ error: { type: 'server_error' } }))).toMatchObject({
      status: 500,
    })
    expect(openaiStreamCommit(data({ error: { code: 'overloaded' } }))).toMatchObject({
      status: 503,
    })
    expect(openaiStreamCommit(data({ error: { code: 502 } }))).toMatchObject({ status: 502 })
  })

  it('reads the Responses events: held lifecycle, nested and flat errors, response.failed', () => {
    expect(openaiStreamCommit(ev('response.created', { type: 'response.created' }))).toBe('hold')
    expect(openaiStreamCommit(data({ type: 'response.output_text.delta' }))).toBe('commit')
    const nested = { type: 'error', error: { type: 'rate_limit_exceeded', message: 'slow' } }
    expect(openaiStreamCommit(ev('error', nested))).toEqual({
      status: 429,
      body: { error: nested.error },
    })
    const flat = { type: 'error', code: 'server_error', message: 'oops', param: null }
    expect(openaiStreamCommit(ev('error', flat))).toEqual({
      status: 500,
      body: { error: { message: 'oops', type: 'server_error', code: 'server_error', param: null } },
    })
    const failed = {
      type: 'response.failed',
      response: { status: 'failed', error: { code: 'rate_limit_exceeded', message: 'later' } },
    }
    expect(openaiStreamCommit(ev('response.failed', failed))).toMatchObject({
      status: 429,
      body: { error: { code: 'rate_limit_exceeded', message: 'later' } },
    })
  })
})

describe('geminiStreamCommit', () => {
  it('fails on an error chunk with its code, or the status its name stands for', () => {
    const exhausted = { error: { code: 429, status: 'RESOURCE_EXHAUSTED', message: 'slow' } }
    expect(geminiStreamCommit(data(exhausted))).toEqual({ status: 429, body: exhausted })
    expect(geminiStreamCommit(data({ error: { status: 'UNAVAILABLE' } }))).toMatchObject({
      status: 503,
    })
    expect(geminiStreamCommit(data({ error: {} }))).toMatchObject({ status: 500 })
  })

  it('commits on parts, a finish reason or a blocked prompt; holds the rest', () => {
    const parts = { candidates: [{ content: { parts: [{ text: 'Hi' }] } }] }
    expect(geminiStreamCommit(data(parts))).toBe('commit')
    expect(geminiStreamCommit(data({ candidates: [{ finishReason: 'STOP' }] }))).toBe('commit')
    expect(geminiStreamCommit(data({ promptFeedback: { blockReason: 'SAFETY' } }))).toBe('commit')
    expect(geminiStreamCommit(data({ candidates: [{ content: { parts: [] } }] }))).toBe('hold')
    expect(geminiStreamCommit(data({ usageMetadata: {} }))).toBe('hold')
  })
})
