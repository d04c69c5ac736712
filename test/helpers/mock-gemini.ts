/**
 * A local Gemini API (`POST /v1beta/models/{model}:generateContent` and
 * `:streamGenerateContent?alt=sse`): its JSON and SSE formats, `usageMetadata`, and its 429s,
 * which carry no headers, only a `google.rpc.Status` body with `QuotaFailure` and
 * `RetryInfo.retryDelay`. It enforces requests and input tokens per minute.
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

export interface GeminiMock extends LlmServer {
  readonly quotas: { requests?: Quota; tokens?: Quota }
}

const statusNames: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  503: 'UNAVAILABLE',
}

export const geminiError = (
  status: number,
  details: unknown[] = [],
  message = `mock ${status}`,
) => ({
  error: { code: status, message, status: statusNames[status] ?? 'UNKNOWN', details },
})

/** A 429 for a quota of `quotaId`, to retry after `retryDelay` (`'1.5s'`) if given. */
export function quotaExhausted(quotaId: string, retryDelay?: string) {
  return geminiError(
    429,
    [
      {
        '@type': 'type.googleapis.com/google.rpc.QuotaFailure',
        violations: [
          {
            quotaMetric: 'generativelanguage.googleapis.com/generate_content_free_tier_requests',
            quotaId,
            quotaDimensions: { location: 'global', model: 'gemini-2.0-flash' },
            quotaValue: '15',
          },
        ],
      },
      ...(retryDelay === undefined
        ? []
        : [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay }]),
    ],
    'You exceeded your current quota, please check your plan and billing details.',
  )
}

export async function startGeminiMock(
  limits: { rpm?: number; tpm?: number } = {},
): Promise<GeminiMock> {
  const quotas: GeminiMock['quotas'] = {}
  if (limits.rpm !== undefined) quotas.requests = new Quota(limits.rpm)
  if (limits.tpm !== undefined) quotas.tokens = new Quota(limits.tpm)

  const refuse = (res: ServerResponse, wait: number, quotaId: string) => {
    res.writeHead(429, { 'content-type': 'application/json' })
    res.end(JSON.stringify(quotaExhausted(quotaId, `${(wait / 1_000).toFixed(3)}s`)))
  }

  const mock = await startLlmServer(geminiError, async (req, res, seen, n) => {
    const url = new URL(req.url ?? '/', 'http://localhost')
    const [, model, method] = /models\/([^:]+):(\w+)$/.exec(url.pathname) ?? []
    const params = JSON.parse(seen.body) as { contents: unknown; systemInstruction?: unknown }
    const input = inputTokensOf({
      contents: params.contents,
      systemInstruction: params.systemInstruction,
    })
    const wanted: [Quota | undefined, number, string][] = [
      [quotas.requests, 1, 'GenerateRequestsPerMinutePerProjectPerModel'],
      [quotas.tokens, input, 'GenerateContentInputTokensPerModelPerMinute'],
    ]
    const refusal = chargeAll(wanted)
    if (refusal !== undefined) return refuse(res, refusal.wait, refusal.refused[2])
    if (mock.generation > 0) await delay(mock.generation)
    const text = replyFor(n)
    const output = tokensOf(text)
    const usageMetadata = {
      promptTokenCount: input,
      candidatesTokenCount: output,
      totalTokenCount: input + output,
    }
    const candidate = (part: string, last: boolean) => ({
      content: { parts: [{ text: part }], role: 'model' },
      index: 0,
      ...(last ? { finishReason: 'STOP' } : {}),
    })
    if (method === 'generateContent') {
      res.writeHead(200, { 'content-type': 'application/json; charset=UTF-8' })
      res.end(
        JSON.stringify({ candidates: [candidate(text, true)], usageMetadata, modelVersion: model }),
      )
      return
    }
    const pieces = piecesOf(text)
    await writeEvents(
      res,
      pieces.map((piece, i) => ({
        data: {
          candidates: [candidate(piece, i === pieces.length - 1)],
          usageMetadata:
            i === pieces.length - 1
              ? usageMetadata
              : { promptTokenCount: input, totalTokenCount: input },
          modelVersion: model,
        },
      })),
    )
  })
  return Object.assign(mock, { quotas })
}
