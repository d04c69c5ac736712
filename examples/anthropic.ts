/**
 * The Anthropic SDK behind breakwater: budgets, retries, idempotency keys and a cache for
 * deterministic calls. Runs against a local mock of the API unless ANTHROPIC_BASE_URL is set:
 *
 *   node --import tsx examples/anthropic.ts
 *   ANTHROPIC_BASE_URL=https://api.anthropic.com ANTHROPIC_API_KEY=sk-... node --import tsx examples/anthropic.ts
 */
import Anthropic from '@anthropic-ai/sdk'
import { createFetch } from 'breakwater'
import { anthropic } from 'breakwater/ai'
import { startMockApi } from './mock-api.js'

const mock = process.env.ANTHROPIC_BASE_URL ? undefined : await startMockApi()
mock?.script({ status: 529 }) // the first attempt meets an overloaded API

// The Messages API takes no `temperature` any more (SDK 1.x): no call is known deterministic,
// so caching Anthropic answers is the application's choice, made here.
const fetch = createFetch(
  anthropic({ rpm: 50, inputTpm: 30_000, outputTpm: 8_000, cacheNonDeterministic: true }),
)
// breakwater retries, so the SDK must not: 3 SDK attempts × 4 of breakwater's would be 12.
const client = new Anthropic({
  apiKey: process.env.ANTHROPIC_API_KEY ?? 'sk-mock',
  baseURL: process.env.ANTHROPIC_BASE_URL ?? mock?.url,
  fetch,
  maxRetries: 0,
})

const params = {
  model: 'claude-sonnet-4-6',
  max_tokens: 256,
  messages: [{ role: 'user' as const, content: 'Say hello in five words.' }],
}
for (let i = 0; i < 2; i++) {
  const message = await client.messages.create(params)
  console.log(message.content[0]?.type === 'text' ? message.content[0].text : message.content)
}
// Per-call options ride in the SDK's fetchOptions, typed: this one answer is kept for an hour.
await client.messages.create(params, { fetchOptions: { breakwater: { ttl: 60 * 60_000 } } })

// A stream passes through as it arrives (cached only with `cacheStreams: true`).
const stream = client.messages.stream(params)
stream.on('text', (text) => process.stdout.write(text))
await stream.finalMessage()
process.stdout.write('\n')

const { requests, upstreamCalls, retries, cacheHits, throttled } = fetch.stats()
console.log({ requests, upstreamCalls, retries, cacheHits, throttled })
await fetch.close()
await mock?.close()
