/**
 * A local OpenAI Chat Completions API (`POST /v1/chat/completions`): its JSON and chunk-stream
 * formats (`data: [DONE]`, usage in a last chunk with `stream_options.include_usage`),
 * `x-ratelimit-*` headers with Go-duration resets, `insufficient_quota` bodies, and the quotas
 * it enforces: requests and tokens per minute, a call charged its input plus `max_tokens` when
 * sent and settled to what it used at its end.
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

export interface OpenAIMock extends LlmServer {
  readonly quotas: { requests?: Quota; tokens?: Quota }
}

export const openaiError = (
  status: number,
  code: string | null = null,
  message = `mock ${status}`,
) => ({
  error: {
    message,
    type:
      status === 429
        ? (code ?? 'requests')
        : status >= 500
          ? 'server_error'
          : 'invalid_request_error',
    param: null,
    code,
  },
})

/** OpenAI's 429 for an exhausted billing quota: no wait cures it. */
export const insufficientQuota = openaiError(
  429,
  'insufficient_quota',
  'You exceeded your current quota, please check your plan and billing details.',
)

const goDuration = (ms: number) =>
  ms < 1_000 ? `${Math.ceil(ms)}ms` : `${(ms / 1_000).toFixed(3)}s`

/** Tokens charged when the request names no max: the model's whole window, in the real API. */
const defaultMax = 4_096

export async function startOpenAIMock(
  limits: { rpm?: number; tpm?: number } = {},
): Promise<OpenAIMock> {
  const quotas: OpenAIMock['quotas'] = {}
  if (limits.rpm !== undefined) quotas.requests = new Quota(limits.rpm)
  if (limits.tpm !== undefined) quotas.tokens = new Quota(limits.tpm)

  const headers = (): Record<string, string> => {
    const h: Record<string, string> = {
      'x-request-id': `req_${Math.random().toString(36).slice(2)}`,
    }
    for (const [name, quota] of [
      ['requests', quotas.requests],
      ['tokens', quotas.tokens],
    ] as const) {
      if (quota === undefined) continue
      h[`x-ratelimit-limit-${name}`] = String(quota.perMinute)
      h[`x-ratelimit-remaining-${name}`] = String(Math.floor(quota.remaining()))
      h[`x-ratelimit-reset-${name}`] = goDuration(quota.untilFull())
    }
    return h
  }

  const refuse = (res: ServerResponse, wait: number, name: string) => {
    res.writeHead(429, {
      'content-type': 'application/json',
      'retry-after-ms': String(Math.ceil(wait)),
      'retry-after': String(Math.max(1, Math.ceil(wait / 1_000))),
      ...headers(),
    })
    res.end(
      JSON.stringify(openaiError(429, `rate_limit_exceeded`, `Rate limit reached for ${name}`)),
    )
  }

  const mock = await startLlmServer(openaiError, async (_req, res, seen, n) => {
    const params = JSON.parse(seen.body) as {
      model: string
      messages: unknown
      max_tokens?: number
      max_completion_tokens?: number
      stream?: boolean
      stream_options?: { include_usage?: boolean }
    }
    const input = inputTokensOf({ messages: params.messages })
    const max = params.max_completion_tokens ?? params.max_tokens ?? defaultMax
    const wanted: [Quota | undefined, number, string][] = [
      [quotas.requests, 1, 'requests'],
      [quotas.tokens, input + max, 'tokens'],
    ]
    const refusal = chargeAll(wanted)
    if (refusal !== undefined) return refuse(res, refusal.wait, refusal.refused[2])
    if (mock.generation > 0) await delay(mock.generation)
    const text = replyFor(n)
    const output = Math.min(max, tokensOf(text))
    quotas.tokens?.give(max - output)
    const usage = { prompt_tokens: input, completion_tokens: output, total_tokens: input + output }
    const base = {
      id: `chatcmpl-${n}`,
      created: Math.floor(Date.now() / 1_000),
      model: params.model,
    }
    if (params.stream !== true) {
      res.writeHead(200, { 'content-type': 'application/json', ...headers() })
      res.end(
        JSON.stringify({
          ...base,
          object: 'chat.completion',
          choices: [
            {
              index: 0,
              message: { role: 'assistant', content: text, refusal: null },
              logprobs: null,
              finish_reason: 'stop',
            },
          ],
          usage,
        }),
      )
      return
    }
    const chunk = (choices: unknown[], extra: object = {}) => ({
      data: { ...base, object: 'chat.completion.chunk', choices, ...extra },
    })
    await writeEvents(
      res,
      [
        chunk([{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }]),
        ...piecesOf(text).map((piece) =>
          chunk([{ index: 0, delta: { content: piece }, finish_reason: null }]),
        ),
        chunk([{ index: 0, delta: {}, finish_reason: 'stop' }]),
        ...(params.stream_options?.include_usage === true ? [chunk([], { usage })] : []),
        { data: '[DONE]' },
      ],
      headers(),
    )
  })
  return Object.assign(mock, { quotas })
}
