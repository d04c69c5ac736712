/**
 * The Vercel AI SDK behind breakwater, through its providers' `fetch`. Runs against a local
 * mock of both APIs unless ANTHROPIC_BASE_URL and OPENAI_BASE_URL are set:
 *
 *   node --import tsx examples/ai-sdk.ts
 *   ANTHROPIC_BASE_URL=https://api.anthropic.com/v1 ANTHROPIC_API_KEY=sk-ant-... \
 *   OPENAI_BASE_URL=https://api.openai.com/v1 OPENAI_API_KEY=sk-... node --import tsx examples/ai-sdk.ts
 */

import { createAnthropic } from '@ai-sdk/anthropic'
import { createOpenAI } from '@ai-sdk/openai'
import { generateText, streamText } from 'ai'
import { createFetch } from 'breakwater'
import { anthropic, openai } from 'breakwater/ai'
import { startMockApi } from './mock-api.js'

const real =
  process.env.ANTHROPIC_BASE_URL !== undefined && process.env.OPENAI_BASE_URL !== undefined
const mock = real ? undefined : await startMockApi()
// The first attempt meets an overload; breakwater retries it, the AI SDK never sees it.
mock?.script({ status: 529, headers: { 'retry-after-ms': '100' } })

const claudeFetch = createFetch(anthropic({ rpm: 50 }))
const gptFetch = createFetch(openai({ rpm: 500, tpm: 200_000 }))
const claude = createAnthropic({
  apiKey: process.env.ANTHROPIC_API_KEY ?? 'sk-ant-mock',
  baseURL: process.env.ANTHROPIC_BASE_URL ?? `${mock?.url}/v1`,
  fetch: claudeFetch,
})
const gpt = createOpenAI({
  apiKey: process.env.OPENAI_API_KEY ?? 'sk-mock',
  baseURL: process.env.OPENAI_BASE_URL ?? `${mock?.url}/v1`,
  fetch: gptFetch,
})

// maxRetries: 0 on every call: the AI SDK's own 2 retries would multiply breakwater's attempts.
const { text } = await generateText({
  model: claude('claude-sonnet-4-6'),
  prompt: 'Say hello in five words.',
  maxRetries: 0,
})
console.log(text)

// temperature 0: the second call is answered from breakwater's cache.
for (let i = 0; i < 2; i++) {
  const answer = await generateText({
    model: gpt.chat('gpt-4.1-mini'),
    prompt: 'Say hello in five words.',
    temperature: 0,
    maxRetries: 0,
  })
  console.log(answer.text)
}

// A stream passes through as it arrives, held back only until its first content event.
const story = streamText({ model: gpt.chat('gpt-4.1-mini'), prompt: 'Hello?', maxRetries: 0 })
for await (const piece of story.textStream) process.stdout.write(piece)
process.stdout.write('\n')

console.log({ anthropic: claudeFetch.stats().retries, openaiCacheHits: gptFetch.stats().cacheHits })
await claudeFetch.close()
await gptFetch.close()
await mock?.close()
