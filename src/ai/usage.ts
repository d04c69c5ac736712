/**
 * Tokens a provider says a call used, read from its answer: pure. Three shapes of `usage`:
 * - Anthropic: `usage.input_tokens` (+ `cache_creation_input_tokens`, which its input limit
 *   counts; cache reads it does not), `usage.output_tokens`;
 * - OpenAI: `usage.prompt_tokens` / `completion_tokens` (chat), `input_tokens` /
 *   `output_tokens` (responses);
 * - Gemini: `usageMetadata.promptTokenCount` / `candidatesTokenCount` (+ `thoughtsTokenCount`,
 *   billed as output).
 * A stream carries them in its events: Anthropic's `message_start` and `message_delta`, the
 * last OpenAI chunk (with `stream_options.include_usage`) or `response.completed`, and every
 * Gemini chunk, the last one being the total.
 */
import type { Outcome } from '../core/outcome.js'
import { isStreamOutcome, jsonEventsOf, jsonOf } from './body.js'
import { count, isRecord } from './params.js'
import { type JsonEvent, jsonEvents } from './sse.js'

export interface Usage {
  /** Input tokens the provider counted against its input limit. */
  readonly input: number | undefined
  /** Output tokens generated. */
  readonly output: number | undefined
}

/** Usage in one JSON object: an answer, an SDK's result, or one event of a stream. */
export function readUsage(value: unknown): Usage | undefined {
  if (!isRecord(value)) return undefined
  const nested = value.message ?? value.response
  const usage = isRecord(value.usage) ? value.usage : isRecord(nested) ? nested.usage : undefined
  if (isRecord(usage)) {
    const input = count(usage.input_tokens) ?? count(usage.prompt_tokens)
    const output = count(usage.output_tokens) ?? count(usage.completion_tokens)
    if (input === undefined && output === undefined) return undefined
    const created = count(usage.cache_creation_input_tokens) ?? 0
    return { input: input === undefined ? undefined : input + created, output }
  }
  const meta = value.usageMetadata
  if (isRecord(meta)) {
    const input = count(meta.promptTokenCount)
    const candidates = count(meta.candidatesTokenCount)
    const thoughts = count(meta.thoughtsTokenCount) ?? 0
    const output = candidates === undefined ? undefined : candidates + thoughts
    if (input === undefined && output === undefined) return undefined
    return { input, output }
  }
  return undefined
}

/** Usage over a whole event stream: for each side, the last event that reports it. */
export function readStreamUsage(text: string): Usage | undefined {
  return usageOfEvents(jsonEvents(text))
}

function usageOfEvents(events: readonly JsonEvent[]): Usage | undefined {
  let input: number | undefined
  let output: number | undefined
  for (const { value } of events) {
    const usage = readUsage(value)
    input = usage?.input ?? input
    output = usage?.output ?? output
  }
  return input === undefined && output === undefined ? undefined : { input, output }
}

/**
 * Usage of a finished call: a complete HTTP answer (JSON, or a whole event stream), or a
 * wrapped SDK call's value. `undefined` when the answer does not say.
 */
export function usageOf(outcome: Outcome): Usage | undefined {
  if (outcome.kind === 'value') return readUsage(outcome.value)
  if (!(outcome.body instanceof Uint8Array)) return undefined
  return isStreamOutcome(outcome)
    ? usageOfEvents(jsonEventsOf(outcome.body))
    : readUsage(jsonOf(outcome.body))
}
