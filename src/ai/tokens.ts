/**
 * Token estimates from a request's parameters, before the provider counts them: pure.
 *
 * No tokenizer is shipped: English text averages about four characters per token in every
 * provider's tokenizer, so `ceil(chars / 4)` plus a few tokens of framing per message is close,
 * and the buckets settle the difference from `usage` once the answer arrives.
 */
import { count, isRecord, type Params } from './params.js'

/** Parameters that carry the prompt, across the three providers' request shapes. */
const promptFields = [
  'system', // Anthropic
  'messages', // Anthropic, OpenAI chat
  'input', // OpenAI responses
  'instructions', // OpenAI responses
  'prompt', // OpenAI completions
  'tools', // all: tool schemas are sent as prompt
  'functions', // OpenAI (legacy)
  'contents', // Gemini
  'systemInstruction', // Gemini REST
  'system_instruction', // Gemini REST, snake case
  'config', // @google/genai: systemInstruction and tools ride in config
] as const

// Keys whose strings are not text the model reads as tokens one for four characters: inline
// media (base64) and enumerations the provider's framing already accounts for.
const skipped = new Set([
  'data',
  'url',
  'image_url',
  'type',
  'role',
  'media_type',
  'mime_type',
  'mimeType',
])

/** Tokens of framing per message (role markers, separators), as the providers' own counts show. */
const perMessage = 4

/**
 * Estimated input tokens of a request: `ceil(chars / 4)` over the prompt's text (system, messages
 * or contents, tools), plus 4 per message.
 *
 * @example
 * estimateInputTokens({ messages: [{ role: 'user', content: 'Hello there!' }] }) // 3 + 4 = 7
 */
export function estimateInputTokens(params: Params): number {
  let chars = 0
  let messages = 0
  for (const field of promptFields) {
    const value = params[field]
    if (value === undefined) continue
    chars += textLength(value)
    if (
      Array.isArray(value) &&
      (field === 'messages' || field === 'contents' || field === 'input')
    ) {
      messages += value.length
    } else if (field !== 'tools' && field !== 'functions' && field !== 'config') messages += 1
  }
  return Math.ceil(chars / 4) + perMessage * messages
}

/** Characters of text in a parameter, walking arrays and objects (skipping media and enums). */
function textLength(value: unknown, depth = 0): number {
  // Prompts are shallow; a deeper structure is not text worth walking.
  if (depth > 32) return 0
  if (typeof value === 'string') return value.length
  if (Array.isArray(value)) {
    let n = 0
    for (const item of value) n += textLength(item, depth + 1)
    return n
  }
  if (!isRecord(value)) return 0
  let n = 0
  for (const [key, item] of Object.entries(value)) {
    if (!skipped.has(key)) n += textLength(item, depth + 1)
  }
  return n
}

/**
 * The most output tokens the request allows, as it says it: `max_tokens` (Anthropic, OpenAI
 * chat), `max_completion_tokens` (OpenAI), `max_output_tokens` (OpenAI responses),
 * `generationConfig.maxOutputTokens` (Gemini REST) or `config.maxOutputTokens` (@google/genai);
 * times `n` choices (OpenAI). `undefined` when it does not say.
 */
export function requestedOutputTokens(params: Params): number | undefined {
  const config = isRecord(params.generationConfig)
    ? params.generationConfig
    : isRecord(params.config)
      ? params.config
      : undefined
  const max =
    count(params.max_completion_tokens) ??
    count(params.max_tokens) ??
    count(params.max_output_tokens) ??
    count(config?.maxOutputTokens)
  if (max === undefined) return undefined
  const choices = count(params.n) ?? count(config?.candidateCount) ?? 1
  return max * Math.max(1, choices)
}
