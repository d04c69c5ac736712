/**
 * The @google/genai SDK behind breakwater (it takes a custom fetch in `httpOptions.fetch`).
 * Runs against a local mock of the API unless GEMINI_BASE_URL is set:
 *
 *   node --import tsx examples/gemini.ts
 *   GEMINI_BASE_URL=https://generativelanguage.googleapis.com GEMINI_API_KEY=... node --import tsx examples/gemini.ts
 */
import { GoogleGenAI } from '@google/genai'
import { createFetch } from 'breakwater'
import { gemini } from 'breakwater/ai'
import { startMockApi } from './mock-api.js'

const mock = process.env.GEMINI_BASE_URL ? undefined : await startMockApi()
// Gemini says when to come back in the 429's body only: RetryInfo.retryDelay.
mock?.script({
  status: 429,
  body: {
    error: {
      code: 429,
      status: 'RESOURCE_EXHAUSTED',
      message: 'You exceeded your current quota.',
      details: [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '0.3s' }],
    },
  },
})

const fetch = createFetch(gemini({ rpm: 15, tpm: 1_000_000, rpd: 1_500 }))
// The SDK retries only when given httpOptions.retryOptions: left out, breakwater alone retries.
const ai = new GoogleGenAI({
  apiKey: process.env.GEMINI_API_KEY ?? 'mock-key',
  httpOptions: { baseUrl: process.env.GEMINI_BASE_URL ?? mock?.url ?? '', fetch },
})

const request = {
  model: 'gemini-2.0-flash',
  contents: 'Say hello in five words.',
  config: { temperature: 0 },
}
for (let i = 0; i < 2; i++) console.log((await ai.models.generateContent(request)).text)

for await (const chunk of await ai.models.generateContentStream({
  ...request,
  config: { temperature: 1 },
})) {
  process.stdout.write(chunk.text ?? '')
}
process.stdout.write('\n')

const { requests, upstreamCalls, retries, cacheHits, throttled } = fetch.stats()
console.log({ requests, upstreamCalls, retries, cacheHits, throttled })
await fetch.close()
await mock?.close()
