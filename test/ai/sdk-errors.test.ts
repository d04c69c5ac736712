/**
 * What an SDK user catches when breakwater, as the SDK's fetch, refuses a call, fails it fast
 * or times it out, next to a plain network error: the real SDKs against local mocks.
 */
import { createServer, type Socket } from 'node:net'
import Anthropic from '@anthropic-ai/sdk'
import { GoogleGenAI } from '@google/genai'
import OpenAI from 'openai'
import { afterEach, describe, expect, it } from 'vitest'
import { anthropic, gemini, openai } from '../../src/ai/index.js'
import {
  type BreakwaterFetch,
  type BreakwaterOptions,
  breakwaterErrorOf,
  CircuitOpenError,
  createFetch,
  isCircuitOpenError,
  isRateLimitError,
  isTimeoutError,
  RateLimitError,
  TimeoutError,
} from '../../src/index.js'
import { startAnthropicMock } from '../helpers/mock-anthropic.js'
import { startGeminiMock } from '../helpers/mock-gemini.js'
import type { LlmServer } from '../helpers/mock-llm.js'
import { startOpenAIMock } from '../helpers/mock-openai.js'

interface Sdk {
  readonly name: string
  readonly preset: (o: { retry: false }) => BreakwaterOptions
  readonly start: () => Promise<LlmServer>
  /** The SDK's classes for a failed fetch and a timed-out one (genai has none). */
  readonly connection?: abstract new (
    ...args: never[]
  ) => Error
  readonly timeout?: abstract new (...args: never[]) => Error
  /** One call through the SDK, its own retries off. */
  readonly send: (url: string, fetch: BreakwaterFetch) => Promise<unknown>
}

const sdks: Sdk[] = [
  {
    name: 'Anthropic',
    preset: anthropic,
    start: () => startAnthropicMock(),
    connection: Anthropic.APIConnectionError,
    timeout: Anthropic.APIConnectionTimeoutError,
    send: (url, fetch) =>
      new Anthropic({ apiKey: 'sk-test', baseURL: url, fetch, maxRetries: 0 }).messages.create({
        model: 'claude-sonnet-4-6',
        max_tokens: 16,
        messages: [{ role: 'user', content: 'Hello' }],
      }),
  },
  {
    name: 'OpenAI',
    preset: openai,
    start: () => startOpenAIMock(),
    connection: OpenAI.APIConnectionError,
    timeout: OpenAI.APIConnectionTimeoutError,
    send: (url, fetch) =>
      new OpenAI({
        apiKey: 'sk-test',
        baseURL: `${url}/v1`,
        fetch,
        maxRetries: 0,
      }).chat.completions.create({
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: 'Hello' }],
      }),
  },
  {
    name: 'Gemini',
    preset: gemini,
    start: () => startGeminiMock(),
    send: (url, fetch) =>
      new GoogleGenAI({ apiKey: 'k', httpOptions: { baseUrl: url, fetch } }).models.generateContent(
        { model: 'gemini-2.5-flash', contents: 'Hello' },
      ),
  },
]

/** A port nothing listens on: taken, then given back. */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

/** A server that takes each request and never answers; `close` drops its connections. */
async function silentServer(): Promise<{ url: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>()
  const server = createServer((socket) => {
    sockets.add(socket)
    socket.on('error', () => {})
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      for (const socket of sockets) socket.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

const caught = (promise: Promise<unknown>): Promise<unknown> =>
  promise.then(
    () => {
      throw new Error('expected the call to fail')
    },
    (error: unknown) => error,
  )

describe.each(sdks)('$name SDK over a breakwater fetch', (sdk) => {
  let mock: LlmServer | undefined
  let fetch: BreakwaterFetch | undefined
  afterEach(async () => {
    await fetch?.close()
    await mock?.close()
    fetch = undefined
    mock = undefined
  })

  it('surfaces a budget refusal that isRateLimitError and breakwaterErrorOf read', async () => {
    mock = await sdk.start()
    fetch = createFetch({
      ...sdk.preset({ retry: false }),
      rateLimit: { name: 'requests', perMinute: 1, mode: 'reject' },
    })
    await sdk.send(mock.url, fetch)
    const error = await caught(sdk.send(mock.url, fetch))
    expect(isRateLimitError(error)).toBe(true)
    expect(isCircuitOpenError(error)).toBe(false)
    const refusal = breakwaterErrorOf(error)
    expect(refusal).toBeInstanceOf(RateLimitError)
    if (isRateLimitError(refusal)) expect(refusal.retryAfter).toBeGreaterThan(0)
    if (sdk.connection !== undefined) {
      expect(error).toBeInstanceOf(sdk.connection)
      expect((error as Error).cause).toBe(refusal)
    } else {
      expect(error).toBe(refusal)
    }
    expect(mock.requests).toHaveLength(1)
  })

  it('surfaces an open breaker that isCircuitOpenError reads', async () => {
    mock = await sdk.start()
    fetch = createFetch({
      ...sdk.preset({ retry: false }),
      breaker: { failureThreshold: 1, halfOpenAfter: 60_000 },
    })
    mock.script({ status: 500 })
    await caught(sdk.send(mock.url, fetch))
    const error = await caught(sdk.send(mock.url, fetch))
    expect(isCircuitOpenError(error)).toBe(true)
    expect(isRateLimitError(error)).toBe(false)
    expect(breakwaterErrorOf(error)).toBeInstanceOf(CircuitOpenError)
    expect(mock.requests).toHaveLength(1)
  })

  it('tells a network error apart: no breakwater error in it', async () => {
    fetch = createFetch({ ...sdk.preset({ retry: false }), breaker: false })
    const error = await caught(sdk.send(`http://127.0.0.1:${await closedPort()}`, fetch))
    expect(breakwaterErrorOf(error)).toBeUndefined()
    expect(isRateLimitError(error)).toBe(false)
    expect(isCircuitOpenError(error)).toBe(false)
    expect(isTimeoutError(error)).toBe(false)
    if (sdk.connection !== undefined) {
      expect(error).toBeInstanceOf(sdk.connection)
      expect(error).not.toBeInstanceOf(sdk.timeout)
      expect((error as Error).cause).toMatchObject({ name: 'TypeError', message: 'fetch failed' })
    }
  })

  // The Stainless SDKs take any error whose text says "timed out" (ours does) for a timeout,
  // and throw a new APIConnectionTimeoutError without a cause: breakwater's error is gone.
  it('surfaces a timeout: the error itself under Gemini, a causeless one under Stainless', async () => {
    const silent = await silentServer()
    fetch = createFetch({ ...sdk.preset({ retry: false }), timeout: 20 })
    const error = await caught(sdk.send(silent.url, fetch)).finally(() => silent.close())
    if (sdk.timeout !== undefined) {
      expect(error).toBeInstanceOf(sdk.timeout)
      expect((error as Error).cause).toBeUndefined()
      expect(isTimeoutError(error)).toBe(false)
    } else {
      expect(error).toBeInstanceOf(TimeoutError)
      expect(isTimeoutError(error)).toBe(true)
    }
  })
})
