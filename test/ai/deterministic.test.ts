import { describe, expect, it } from 'vitest'
import { isCacheableCall, temperatureOf } from '../../src/ai/deterministic.js'
import type { CallDetails } from '../../src/core/call.js'

const post = (params: unknown, url = 'https://api.anthropic.com/v1/messages'): CallDetails => ({
  method: 'POST',
  url,
  origin: new URL(url).origin,
  headers: new Headers(),
  body: new TextEncoder().encode(JSON.stringify(params)),
  args: undefined,
})
const off = { cacheNonDeterministic: false, cacheStreams: false }

describe('temperatureOf', () => {
  it('reads the temperature where each provider puts it', () => {
    expect(temperatureOf({ temperature: 0 })).toBe(0)
    expect(temperatureOf({ generationConfig: { temperature: 0.5 } })).toBe(0.5)
    expect(temperatureOf({ config: { temperature: 1 } })).toBe(1)
    expect(temperatureOf({})).toBeUndefined()
  })
})

describe('isCacheableCall', () => {
  it('takes a call at temperature 0 and none that samples', () => {
    expect(isCacheableCall(post({ temperature: 0 }), off)).toBe(true)
    expect(isCacheableCall(post({ temperature: 0.2 }), off)).toBe(false)
    // Unset means the provider's default, which samples.
    expect(isCacheableCall(post({}), off)).toBe(false)
  })

  it('takes any temperature with cacheNonDeterministic', () => {
    expect(isCacheableCall(post({ temperature: 1 }), { ...off, cacheNonDeterministic: true })).toBe(
      true,
    )
  })

  it('passes streams through unless cacheStreams, by body or by Gemini’s URL', () => {
    expect(isCacheableCall(post({ temperature: 0, stream: true }), off)).toBe(false)
    const gemini =
      'https://generativelanguage.googleapis.com/v1beta/models/g:streamGenerateContent?alt=sse'
    expect(isCacheableCall(post({ generationConfig: { temperature: 0 } }, gemini), off)).toBe(false)
    expect(
      isCacheableCall(post({ temperature: 0, stream: true }), { ...off, cacheStreams: true }),
    ).toBe(true)
  })

  it('takes reads, and never a body that is not JSON', () => {
    expect(isCacheableCall({ ...post({}), method: 'GET', body: undefined }, off)).toBe(true)
    expect(isCacheableCall({ ...post({}), body: new TextEncoder().encode('not json') }, off)).toBe(
      false,
    )
  })

  it('reads the parameters of a wrapped call from its first argument', () => {
    const call: CallDetails = {
      method: 'CALL',
      url: '',
      origin: 'create',
      headers: undefined,
      body: undefined,
      args: [{ temperature: 0 }],
    }
    expect(isCacheableCall(call, off)).toBe(true)
  })
})
