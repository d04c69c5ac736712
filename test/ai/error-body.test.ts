import { describe, expect, it } from 'vitest'
import { errorOf, isErrorAnswer } from '../../src/ai/error-body.js'
import { httpOutcome } from '../helpers/call.js'

const bytes = (value: unknown) => new TextEncoder().encode(JSON.stringify(value))

describe('errorOf', () => {
  it('reads the error object of a refusal’s body', () => {
    expect(
      errorOf({ body: bytes({ error: { code: 'insufficient_quota' } }), error: undefined }),
    ).toEqual({
      code: 'insufficient_quota',
    })
  })

  it('reads what the SDKs throw: the body on error.error, or JSON in the message', () => {
    expect(
      errorOf({
        body: undefined,
        error: { error: { type: 'error', error: { type: 'rate_limit_error' } } },
      }),
    ).toEqual({
      type: 'rate_limit_error',
    })
    expect(errorOf({ body: undefined, error: { error: { code: 'insufficient_quota' } } })).toEqual({
      code: 'insufficient_quota',
    })
    const genai = new Error(
      'got status: 429 . {"error":{"code":429,"status":"RESOURCE_EXHAUSTED"}}',
    )
    expect(errorOf({ body: undefined, error: genai })).toEqual({
      code: 429,
      status: 'RESOURCE_EXHAUSTED',
    })
  })

  it('is empty when nothing can be read', () => {
    expect(errorOf({ body: new TextEncoder().encode('<html>'), error: undefined })).toEqual({})
    expect(errorOf({ body: undefined, error: new Error('socket hang up') })).toEqual({})
  })
})

describe('isErrorAnswer', () => {
  it('sees an error in a 200 JSON body', () => {
    expect(
      isErrorAnswer(
        httpOutcome(200, JSON.stringify({ type: 'error', error: { type: 'overloaded_error' } })),
      ),
    ).toBe(true)
    expect(isErrorAnswer(httpOutcome(200, JSON.stringify({ error: { message: 'x' } })))).toBe(true)
    expect(isErrorAnswer(httpOutcome(200, JSON.stringify({ type: 'message', content: [] })))).toBe(
      false,
    )
  })

  it('sees an error event in a stream', () => {
    const stream = (text: string) => httpOutcome(200, text, [['content-type', 'text/event-stream']])
    expect(
      isErrorAnswer(
        stream('event: error\ndata: {"type":"error","error":{"type":"overloaded_error"}}\n\n'),
      ),
    ).toBe(true)
    expect(isErrorAnswer(stream('event: message_stop\ndata: {"type":"message_stop"}\n\n'))).toBe(
      false,
    )
  })

  it('sees an error in a wrapped value', () => {
    expect(isErrorAnswer({ kind: 'value', value: { error: { code: 1 } } })).toBe(true)
    expect(isErrorAnswer({ kind: 'value', value: { id: 'msg' } })).toBe(false)
  })
})
