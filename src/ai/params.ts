/**
 * The parameters of an LLM call, read from what breakwater knows of it: the JSON body sent by
 * an SDK through `createFetch`, or the first argument of a function given to `wrap`.
 */
import type { CallDetails } from '../quota-options.js'

export type Params = Readonly<Record<string, unknown>>

// One call asks for its parameters several times (each bucket's cost, the cache's question):
// the body is parsed once per attempt's bytes.
const parsed = new WeakMap<Uint8Array, Params | undefined>()
const decoder = new TextDecoder()

/** The call's parameters as an object, or `undefined` when it has none (a GET, a non-JSON body). */
export function paramsOf(call: CallDetails): Params | undefined {
  if (call.body !== undefined) {
    if (parsed.has(call.body)) return parsed.get(call.body)
    const params = parseParams(call.body)
    parsed.set(call.body, params)
    return params
  }
  const first = call.args?.[0]
  return isRecord(first) ? first : undefined
}

function parseParams(body: Uint8Array): Params | undefined {
  try {
    const value: unknown = JSON.parse(decoder.decode(body))
    return isRecord(value) ? value : undefined
  } catch {
    return undefined
  }
}

/**
 * A streamed call: `stream: true` in the body (Anthropic, OpenAI), or Gemini's
 * `:streamGenerateContent` method, which says it in the URL alone.
 */
export function isStreamCall(call: CallDetails, params: Params | undefined): boolean {
  return params?.stream === true || call.url.includes(':streamGenerateContent')
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** `value` when it is a finite number ≥ 0, else `undefined`. */
export function count(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined
}
