/**
 * The parameters of an LLM call, read from what breakwater knows of it: the JSON body sent by
 * an SDK through `createFetch`, or the first argument of a function given to `wrap`.
 */
import type { CallDetails } from '../core/call.js'
import { jsonOf } from './body.js'

export type Params = Readonly<Record<string, unknown>>

/** The call's parameters as an object, or `undefined` when it has none (a GET, a non-JSON body). */
export function paramsOf(call: CallDetails): Params | undefined {
  const value = call.body === undefined ? call.args?.[0] : jsonOf(call.body)
  return isRecord(value) ? value : undefined
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
