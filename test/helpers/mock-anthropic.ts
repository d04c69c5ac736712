/**
 * A local Anthropic Messages API (`POST /v1/messages`): its JSON and event-stream formats,
 * `anthropic-ratelimit-*` headers, `rate_limit_error` / `overloaded_error` bodies, and the
 * three quotas it enforces: requests, input tokens and output tokens per minute. Output is
 * reserved at `max_tokens` when a call starts and settled to what was written at its end.
 */
import type { ServerResponse } from 'node:http'
import {
  chargeAll,
  inputTokensOf,
  type LlmServer,
  piecesOf,
  Quota,
  replyFor,
  startLlmServer,
  tokensOf,
  writeEvents,
} from './mock-llm.js'
import { delay } from './upstream.js'

export interface AnthropicMock extends LlmServer {
  readonly quotas: { requests?: Quota; input?: Quota; output?: Quota }
}

const errorTypes: Record<number, string> = {
  400: 'invalid_request_error',
  408: 'timeout_error',
  429: 'rate_limit_error',
  500: 'api_error',
  529: 'overloaded_error',
}

export const anthropicError = (status: number, message = `mock ${status}`) => ({
  type: 'error',
  error: { type: errorTypes[status] ?? 'api_error', message },
})

export async function startAnthropicMock(
  limits: { rpm?: number; inputTpm?: number; outputTpm?: number } = {},
): Promise<AnthropicMock> {
  const quotas: AnthropicMock['quotas'] = {}
  if (limits.rpm !== undefined) quotas.requests = new Quota(limits.rpm)
  if (limits.inputTpm !== undefined) quotas.input = new Quota(limits.inputTpm)
  if (limits.outputTpm !== undefined) quotas.output = new Quota(limits.outputTpm)

  const headers = (): Record<string, string> => {
    const h: Record<string, string> = { 'request-id': `req_${Math.random().toString(36).slice(2)}` }
    for (const [name, quota] of [
      ['requests', quotas.requests],
      ['input-tokens', quotas.input],
      ['output-tokens', quotas.output],
    ] as const) {
      if (quota === undefined) continue
      h[`anthropic-ratelimit-${name}-limit`] = String(quota.perMinute)
      h[`anthropic-ratelimit-${name}-remaining`] = String(Math.floor(quota.remaining()))
      h[`anthropic-ratelimit-${name}-reset`] = new Date(
        Date.now() + quota.untilFull(),
      ).toISOString()
    }
    return h
  }

  const refuse = (res: ServerResponse, wait: number) => {
    res.writeHead(429, {
      'content-type': 'application/json',
      'retry-after': String(Math.max(1, Math.ceil(wait / 1_000))),
      ...headers(),
    })
    res.end(
      JSON.stringify(
        anthropicError(429, 'Number of request tokens has exceeded your per-minute rate limit'),
      ),
    )
  }

  const mock = await startLlmServer(anthropicError, async (_req, res, seen, n) => {
    const params = JSON.parse(seen.body) as {
      model: string
      max_tokens: number
      stream?: boolean
      system?: unknown
      messages: unknown
    }
    const input = inputTokensOf({ system: params.system, messages: params.messages })
    const wanted: [Quota | undefined, number][] = [
      [quotas.requests, 1],
      [quotas.input, input],
      [quotas.output, params.max_tokens],
    ]
    const refusal = chargeAll(wanted)
    if (refusal !== undefined) return refuse(res, refusal.wait)
    if (mock.generation > 0) await delay(mock.generation)
    const text = replyFor(n)
    const output = Math.min(params.max_tokens, tokensOf(text))
    quotas.output?.give(params.max_tokens - output)
    const usage = { input_tokens: input, output_tokens: output }
    const message = {
      id: `msg_${n}`,
      type: 'message',
      role: 'assistant',
      model: params.model,
      content: [{ type: 'text', text }],
      stop_reason: 'end_turn',
      stop_sequence: null,
      usage,
    }
    if (params.stream !== true) {
      res.writeHead(200, { 'content-type': 'application/json', ...headers() })
      res.end(JSON.stringify(message))
      return
    }
    const pieces = piecesOf(text)
    await writeEvents(
      res,
      [
        {
          event: 'message_start',
          data: {
            type: 'message_start',
            message: {
              ...message,
              content: [],
              stop_reason: null,
              usage: { input_tokens: input, output_tokens: 1 },
            },
          },
        },
        {
          event: 'content_block_start',
          data: {
            type: 'content_block_start',
            index: 0,
            content_block: { type: 'text', text: '' },
          },
        },
        { event: 'ping', data: { type: 'ping' } },
        ...pieces.map((piece) => ({
          event: 'content_block_delta',
          data: {
            type: 'content_block_delta',
            index: 0,
            delta: { type: 'text_delta', text: piece },
          },
        })),
        { event: 'content_block_stop', data: { type: 'content_block_stop', index: 0 } },
        {
          event: 'message_delta',
          data: {
            type: 'message_delta',
            delta: { stop_reason: 'end_turn', stop_sequence: null },
            usage: { output_tokens: output },
          },
        },
        { event: 'message_stop', data: { type: 'message_stop' } },
      ],
      headers(),
    )
  })
  return Object.assign(mock, { quotas })
}
