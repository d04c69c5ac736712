/**
 * What a provider said when it refused a call, and whether an answer is an error in disguise:
 * pure. Read from the failed response's body (`createFetch`) or from the error an SDK threw
 * (`wrap`): the SDKs keep the parsed body on `error.error`, or its text in `error.message`.
 */

import type { Outcome } from '../core/outcome.js'
import type { RetryContext } from '../retry/options.js'
import { isStreamOutcome, jsonEventsOf, jsonOf } from './body.js'
import { isRecord } from './params.js'

/** The error object of a refusal: the body's `error` field (all three providers nest it there). */
export function errorOf(context: Pick<RetryContext, 'body' | 'error'>): Record<string, unknown> {
  const body = context.body === undefined ? bodyOfError(context.error) : jsonOf(context.body)
  if (!isRecord(body)) return {}
  return isRecord(body.error) ? body.error : body
}

function bodyOfError(error: unknown): unknown {
  if (!isRecord(error)) return undefined
  if (isRecord(error.error)) return error.error
  if (typeof error.message !== 'string') return undefined
  // @google/genai puts the body's JSON at the end of its message.
  const start = error.message.indexOf('{')
  return start === -1 ? undefined : parse(error.message.slice(start))
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

/**
 * A 2xx whose body is an error nonetheless: a JSON `{ "type": "error" }` (Anthropic), an
 * `error` object (OpenAI, Gemini, gateways in front of them), or an event stream that carries
 * an `error` event (Anthropic's `overloaded_error` mid-stream). Such an answer is never stored.
 */
export function isErrorAnswer(outcome: Outcome): boolean {
  if (outcome.kind === 'value') return isErrorValue(outcome.value)
  if (!(outcome.body instanceof Uint8Array)) return false
  if (isStreamOutcome(outcome)) {
    return jsonEventsOf(outcome.body).some(
      ({ event, value }) => event === 'error' || isErrorValue(value),
    )
  }
  return isErrorValue(jsonOf(outcome.body))
}

function isErrorValue(value: unknown): boolean {
  return isRecord(value) && (value.type === 'error' || isRecord(value.error))
}
