import { describe, expect, it } from 'vitest'
import { anthropic, gemini, openai } from '../../src/ai/index.js'
import { withBodyModel, withPathModel } from '../../src/ai/pool.js'
import type { CallDetails } from '../../src/core/call.js'
import type { BreakwaterOptions } from '../../src/options.js'
import type { PoolOptions } from '../../src/pool/options.js'
import { wrap } from '../../src/wrap.js'

/** The pool a preset made, or `undefined`. */
const poolOf = (options: BreakwaterOptions): PoolOptions | undefined =>
  options.pool === false ? undefined : options.pool

const post = (url: string, body: unknown): CallDetails => ({
  method: 'POST',
  url,
  origin: new URL(url).origin,
  headers: new Headers({ 'content-type': 'application/json', 'content-length': '999' }),
  body: new TextEncoder().encode(JSON.stringify(body)),
  args: undefined,
})

describe('preset pools', () => {
  it("makes one target per key, named by its place, with the provider's key header", () => {
    expect(poolOf(anthropic({ keys: ['a', 'b'] }))?.targets).toEqual([
      { name: 'key-1', headers: { 'x-api-key': 'a' } },
      { name: 'key-2', headers: { 'x-api-key': 'b' } },
    ])
    expect(poolOf(openai({ keys: ['a'] }))?.targets).toEqual([
      { name: 'key-1', headers: { authorization: 'Bearer a' } },
    ])
    expect(poolOf(gemini({ keys: ['a'] }))?.targets).toEqual([
      { name: 'key-1', headers: { 'x-goog-api-key': 'a' } },
    ])
  })

  it("adds the keys and models to a pool of the caller's own", () => {
    const pool = poolOf(
      openai({
        keys: ['k'],
        fallbackModels: ['gpt-4o-mini'],
        pool: { targets: [{ name: 'eu', origin: 'https://eu.example.com' }], cooldown: 5_000 },
      }),
    )
    expect(pool?.targets?.map((t) => t.name)).toEqual(['eu', 'key-1'])
    expect(pool?.fallbacks?.map((t) => t.name)).toEqual(['model:gpt-4o-mini'])
    expect(pool?.fallbacks?.[0]?.headers).toEqual({ authorization: 'Bearer k' })
    expect(pool?.cooldown).toBe(5_000)
  })

  it('has no pool unless asked', () => {
    expect(poolOf(anthropic({ rpm: 50 }))).toBeUndefined()
  })

  it('names the option and the value it refuses', () => {
    expect(() => anthropic({ keys: [] })).toThrow(
      'anthropic.keys must be a non-empty array of non-empty strings, got []',
    )
    expect(() => openai({ fallbackModels: [''] as never })).toThrow(
      'openai.fallbackModels must be a non-empty array of non-empty strings, got [""]',
    )
  })

  it('is for createFetch: wrap refuses a target that rewrites requests', () => {
    expect(() => wrap(async () => 1, anthropic({ keys: ['a'] }))).toThrow(
      'pool target "key-1": wrap takes no headers',
    )
  })
})

describe('fallback models', () => {
  it('rewrites the model of a JSON body, and drops the stale content-length', async () => {
    const request = withBodyModel(
      post('https://api.openai.com/v1/chat/completions', { model: 'gpt-4o', messages: [] }),
      'gpt-4o-mini',
    )
    expect(await request.json()).toEqual({ model: 'gpt-4o-mini', messages: [] })
    expect(request.headers.get('content-length')).toBeNull()
    expect(request.headers.get('content-type')).toBe('application/json')
  })

  it('rewrites the model in a Gemini path', () => {
    const call = post(
      'https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse',
      {},
    )
    expect(withPathModel(call, 'gemini-2.5-flash').url).toBe(
      'https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse',
    )
  })
})
