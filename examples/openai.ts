/**
 * The OpenAI SDK behind breakwater. Runs against a local mock of the API unless
 * OPENAI_BASE_URL is set:
 *
 *   node --import tsx examples/openai.ts
 *   OPENAI_BASE_URL=https://api.openai.com/v1 OPENAI_API_KEY=sk-... node --import tsx examples/openai.ts
 */

import { createFetch } from 'breakwater'
import { openai } from 'breakwater/ai'
import OpenAI from 'openai'
import { startMockApi } from './mock-api.js'

const mock = process.env.OPENAI_BASE_URL ? undefined : await startMockApi()
// The first attempt meets a rate limit; breakwater waits the 200 ms the server asks.
mock?.script({ status: 429, headers: { 'retry-after-ms': '200' } })

const fetch = createFetch(openai({ rpm: 500, tpm: 200_000 }))
const client = new OpenAI({
  apiKey: process.env.OPENAI_API_KEY ?? 'sk-mock',
  baseURL: process.env.OPENAI_BASE_URL ?? `${mock?.url}/v1`,
  fetch,
  maxRetries: 0, // breakwater retries; two layers of retries multiply
})

const params = {
  model: 'gpt-4.1-mini',
  max_tokens: 256,
  temperature: 0,
  messages: [{ role: 'user' as const, content: 'Say hello in five words.' }],
}
for (let i = 0; i < 2; i++) {
  const completion = await client.chat.completions.create(params)
  console.log(completion.choices[0]?.message.content)
}

// stream_options.include_usage puts the usage in the last chunk, which settles the budget.
const stream = await client.chat.completions.create({
  ...params,
  stream: true,
  stream_options: { include_usage: true },
})
for await (const chunk of stream) process.stdout.write(chunk.choices[0]?.delta.content ?? '')
process.stdout.write('\n')

const { requests, upstreamCalls, retries, cacheHits, throttled } = fetch.stats()
console.log({ requests, upstreamCalls, retries, cacheHits, throttled })
await fetch.close()
await mock?.close()
