/**
 * Where each provider's streamed answer is committed, and what its error events stand for:
 * pure. Bookkeeping events (a start, a ping, an empty block, a role-only chunk) are held; the
 * first content or ending event commits; an error before it is the status the provider would
 * have answered, with its non-streamed error body, so the SDKs throw their typed errors.
 */
import { errorStatus, isObject, jsonData } from '../stream/first-event-commit.js'
import type { StreamEvent, StreamVerdict } from '../stream/verdict.js'

const anthropicStatuses: Readonly<Record<string, number>> = {
  invalid_request_error: 400,
  authentication_error: 401,
  billing_error: 402,
  permission_error: 403,
  not_found_error: 404,
  request_too_large: 413,
  rate_limit_error: 429,
  api_error: 500,
  timeout_error: 504,
  overloaded_error: 529,
}

/** A block that arrives whole in its `content_block_start` (a server tool's result) is content. */
function blockHasContent(block: unknown): boolean {
  if (!isObject(block)) return false
  switch (block.type) {
    case 'text':
      return block.text !== ''
    case 'thinking':
      return block.thinking !== ''
    case 'tool_use':
    case 'server_tool_use':
    case 'mcp_tool_use':
      return isObject(block.input) && Object.keys(block.input).length > 0
    default:
      return true
  }
}

/**
 * Anthropic Messages: an `error` event (`overloaded_error` inside a 200 above all) fails the
 * attempt with the status of its type (529, 429, 500...). `ping`, `content_block_stop`, and a
 * `message_start` or `content_block_start` that carries no content yet are held; any other
 * event commits (`content_block_delta`, `message_delta`, `message_stop`).
 */
export function anthropicStreamCommit(event: StreamEvent): StreamVerdict {
  const value = jsonData(event)
  const type = event.event !== 'message' ? event.event : isObject(value) ? value.type : undefined
  switch (type) {
    case 'error': {
      const error = isObject(value) && isObject(value.error) ? value.error : {}
      const status = anthropicStatuses[String(error.type)] ?? 500
      const body = isObject(value)
        ? value
        : { type: 'error', error: { type: 'api_error', message: event.data } }
      return { status, body }
    }
    case 'ping':
    case 'content_block_stop':
      return 'hold'
    case 'message_start': {
      const message = isObject(value) ? value.message : undefined
      const content = isObject(message) ? message.content : undefined
      return Array.isArray(content) && content.length > 0 ? 'commit' : 'hold'
    }
    case 'content_block_start':
      return blockHasContent(isObject(value) ? value.content_block : undefined) ? 'commit' : 'hold'
    default:
      return 'commit'
  }
}

/** OpenAI's status for an error, read from its code and type as the AI SDK reads them. */
function openaiStatus(error: Record<string, unknown>): number {
  const given = errorStatus(error.code)
  if (given !== undefined) return given
  const words = `${String(error.code ?? '')} ${String(error.type ?? '')}`.toLowerCase()
  if (words.includes('insufficient_quota') || words.includes('rate_limit')) return 429
  if (words.includes('authentication') || words.includes('invalid_api_key')) return 401
  if (words.includes('permission')) return 403
  if (words.includes('not_found')) return 404
  if (['invalid', 'bad_request', 'context_length'].some((w) => words.includes(w))) return 400
  if (words.includes('overload')) return 503
  if (words.includes('timeout')) return 504
  return 500
}

const openaiFailure = (error: Record<string, unknown>) => ({
  status: openaiStatus(error),
  body: { error },
})

/** Something written: a non-empty string or list, or an object (a call, audio). */
function isWritten(value: unknown): boolean {
  if (typeof value === 'string' || Array.isArray(value)) return value.length > 0
  return isObject(value)
}

/**
 * A chat chunk commits once a choice writes something (content, a refusal, tool calls, and
 * what compatible APIs add, such as `reasoning_content`) or ends; a role-only chunk is held.
 */
function chatVerdict(chunk: Record<string, unknown>): StreamVerdict {
  const choices = Array.isArray(chunk.choices) ? chunk.choices : []
  // The closing usage chunk (`stream_options.include_usage`) has no choices: it ends the answer.
  if (choices.length === 0) return isObject(chunk.usage) ? 'commit' : 'hold'
  for (const choice of choices) {
    if (!isObject(choice)) continue
    if (choice.finish_reason !== null && choice.finish_reason !== undefined) return 'commit'
    const delta = isObject(choice.delta) ? choice.delta : {}
    for (const [field, value] of Object.entries(delta)) {
      if (field !== 'role' && isWritten(value)) return 'commit'
    }
  }
  return 'hold'
}

const responsesHeld = new Set(['response.created', 'response.in_progress', 'response.queued'])

/**
 * OpenAI chat completions and responses. Fails on a chunk whose `error` is an object (chat), an
 * `error` event flat or nested, or `response.failed`, with the status of its code (429 for
 * `rate_limit_exceeded` and `insufficient_quota`, 503 for an overload, else 500). Holds
 * role-only chunks and `response.created` / `in_progress` / `queued`; commits on the rest.
 */
export function openaiStreamCommit(event: StreamEvent): StreamVerdict {
  const value = jsonData(event)
  if (!isObject(value)) return 'commit'
  const type = typeof value.type === 'string' ? value.type : undefined
  if (type === 'error' || (type === undefined && event.event === 'error')) {
    if (isObject(value.error)) return openaiFailure(value.error)
    const { code, message, param } = value
    return openaiFailure({ message, type: typeof code === 'string' ? code : 'error', code, param })
  }
  if (type === 'response.failed') {
    const response = isObject(value.response) ? value.response : {}
    const error = isObject(response.error) ? response.error : { message: 'response failed' }
    return openaiFailure({ type: 'response.failed', ...error })
  }
  if (type === undefined && isObject(value.error)) return openaiFailure(value.error)
  if (type !== undefined) return responsesHeld.has(type) ? 'hold' : 'commit'
  return chatVerdict(value)
}

const googleStatuses: Readonly<Record<string, number>> = {
  INVALID_ARGUMENT: 400,
  FAILED_PRECONDITION: 400,
  UNAUTHENTICATED: 401,
  PERMISSION_DENIED: 403,
  NOT_FOUND: 404,
  RESOURCE_EXHAUSTED: 429,
  CANCELLED: 499,
  INTERNAL: 500,
  UNAVAILABLE: 503,
  DEADLINE_EXCEEDED: 504,
}

/**
 * Gemini `streamGenerateContent?alt=sse`: a chunk `{"error": {code, status}}` fails with its
 * `code` (or the status its name stands for, else 500). A chunk commits once a candidate has
 * parts or a `finishReason`, or the prompt was blocked; others are held.
 */
export function geminiStreamCommit(event: StreamEvent): StreamVerdict {
  const value = jsonData(event)
  if (!isObject(value)) return 'commit'
  if (isObject(value.error)) {
    const { code, status } = value.error
    return { status: errorStatus(code) ?? googleStatuses[String(status)] ?? 500, body: value }
  }
  if (isObject(value.promptFeedback) && value.promptFeedback.blockReason !== undefined) {
    return 'commit'
  }
  const candidates = Array.isArray(value.candidates) ? value.candidates : []
  for (const candidate of candidates) {
    if (!isObject(candidate)) continue
    if (candidate.finishReason !== undefined) return 'commit'
    const content = isObject(candidate.content) ? candidate.content : {}
    if (Array.isArray(content.parts) && content.parts.length > 0) return 'commit'
  }
  return 'hold'
}
