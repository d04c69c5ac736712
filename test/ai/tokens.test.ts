import { describe, expect, it } from 'vitest'
import { estimateInputTokens, requestedOutputTokens } from '../../src/ai/tokens.js'

describe('estimateInputTokens', () => {
  it('counts a quarter token per character of text, rounded up, plus 4 per message', () => {
    expect(estimateInputTokens({ messages: [{ role: 'user', content: 'Hello there!' }] })).toBe(
      3 + 4,
    )
    expect(estimateInputTokens({ messages: [{ role: 'user', content: 'abcde' }] })).toBe(2 + 4)
  })

  it('reads Anthropic system prompts and content blocks, skipping inline media', () => {
    const params = {
      system: 'Be brief.', // 9 chars
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is this?' }, // 13 chars
            {
              type: 'image',
              source: { type: 'base64', media_type: 'image/png', data: 'A'.repeat(4000) },
            },
          ],
        },
      ],
    }
    expect(estimateInputTokens(params)).toBe(Math.ceil(22 / 4) + 2 * 4)
  })

  it('reads OpenAI responses input and instructions', () => {
    expect(estimateInputTokens({ instructions: 'abcd', input: 'efgh' })).toBe(2 + 2 * 4)
  })

  it('reads Gemini contents and systemInstruction, REST and SDK shapes alike', () => {
    const rest = {
      contents: [{ role: 'user', parts: [{ text: '12345678' }] }],
      systemInstruction: { parts: [{ text: '1234' }] },
    }
    expect(estimateInputTokens(rest)).toBe(3 + 2 * 4)
    expect(estimateInputTokens({ contents: '12345678', config: { temperature: 0 } })).toBe(2 + 4)
  })

  it('counts the text of tool definitions', () => {
    const tools = [{ name: 'get_weather', description: 'Weather of a city' }] // 11 + 17
    expect(estimateInputTokens({ messages: [], tools })).toBe(7)
  })

  it('is 0 for a request without a prompt', () => {
    expect(estimateInputTokens({ model: 'x' })).toBe(0)
  })
})

describe('requestedOutputTokens', () => {
  it('reads each provider’s maximum, times the choices asked for', () => {
    expect(requestedOutputTokens({ max_tokens: 100 })).toBe(100)
    expect(requestedOutputTokens({ max_completion_tokens: 50, max_tokens: 100 })).toBe(50)
    expect(requestedOutputTokens({ max_output_tokens: 70 })).toBe(70)
    expect(requestedOutputTokens({ generationConfig: { maxOutputTokens: 30 } })).toBe(30)
    expect(requestedOutputTokens({ config: { maxOutputTokens: 30, candidateCount: 2 } })).toBe(60)
    expect(requestedOutputTokens({ max_tokens: 10, n: 3 })).toBe(30)
  })

  it('is undefined when the request names no maximum, or a nonsense one', () => {
    expect(requestedOutputTokens({})).toBeUndefined()
    expect(requestedOutputTokens({ max_tokens: -1 })).toBeUndefined()
    expect(requestedOutputTokens({ max_tokens: '100' })).toBeUndefined()
  })
})
