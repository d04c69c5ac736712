/**
 * The @google/genai SDK behind breakwater (it takes a custom fetch in `httpOptions.fetch`).
 * Runs against a local mock of the API unless GEMINI_BASE_URL is set:
 *
 *   node --import tsx examples/gemini.ts
 *   GEMINI_BASE_URL=https://generativelanguage.googleapis.com GEMINI_API_KEY=... node --import tsx examples/gemini.ts
 */
import { GoogleGenAI } from '@google/genai'
// In an application: `from 'breakwater'` and `from 'breakwater/ai'`.
import { gemini } from '../src/ai/index.js'
import { createFetch } from '../src/index.js'
import { quotaExhausted, startGeminiMock } from '../test/helpers/mock-gemini.js'

const mock = process.env.GEMINI_BASE_URL ? undefined : await startGeminiMock()
// Gemini says when to come back in the 429's body only: RetryInfo.retryDelay.
if (mock)
  mock.script({
    status: 429,
    body: quotaExhausted('GenerateRequestsPerMinutePerProjectPerModel', '0.3s'),
  })

const fetch = createFetch(gemini({ rpm: 15, tpm: 1_000_000, rpd: 1_500 }))
// The SDK retries only when given httpOptions.retryOptions: left out, breakwater alone retries.
const ai = new GoogleGenAI({
  apiKey: process.env.GEMINI_API_KEY ?? 'mock-key',
  httpOptions: { baseUrl: process.env.GEMINI_BASE_URL ?? (mock as { url: string }).url, fetch },
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
