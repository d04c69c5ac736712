import { integer } from '../core/validate.js'
import type { BreakwaterOptions } from '../options.js'
import type { RetryContext } from '../retry/options.js'
import { errorOf } from './error-body.js'
import { withBodyModel } from './pool.js'
import {
  assemble,
  limit,
  type PresetOptions,
  presetArgs,
  serverErrors,
  type TokenBudget,
} from './preset.js'
import { openaiStreamCommit } from './stream-commit.js'
import { estimateInputTokens, requestedOutputTokens } from './tokens.js'
import { usageOf } from './usage.js'

export interface OpenAIPresetOptions extends PresetOptions<'requests' | 'tokens'> {
  /** Requests per minute of your tier. @default no requests budget */
  rpm?: number
  /** Tokens per minute: input plus the output the call allows, charged when it is sent. */
  tpm?: number
  /** Output tokens reserved for a call that sets no `max_tokens`. @default 4_096 */
  outputEstimate?: number
}

/**
 * `insufficient_quota` is OpenAI's 429 for a billing limit: no wait cures it. Other 429s are
 * rate limits, retried after the wait the server names.
 */
function retryOn(context: RetryContext): boolean | undefined {
  if (context.status !== 429) return undefined
  const error = errorOf(context)
  return error.code === 'insufficient_quota' || error.type === 'insufficient_quota'
    ? false
    : undefined
}

/**
 * Breakwater options for the OpenAI API (chat completions, responses), to spread into
 * `createFetch` (for `new OpenAI({ fetch, maxRetries: 0 })`) or `wrap`.
 *
 * - Retries 408, 409, 429 and 5xx, honouring `retry-after-ms` / `retry-after` /
 *   `x-should-retry`; never `insufficient_quota`.
 * - Budgets: `rpm` and `tpm`, checked together, each holding a minute's worth (`burst` sizes
 *   them). A call reserves its estimated input plus its
 *   `max_tokens` (OpenAI charges that when the call is sent), settled from `usage`;
 *   `x-ratelimit-remaining-*` lowers them.
 * - Caches and merges only calls at `temperature: 0` (or all with `cacheNonDeterministic`);
 *   streams pass through unless `cacheStreams`.
 *
 * @example
 * const fetch = createFetch(openai({ rpm: 500, tpm: 200_000 }))
 * const client = new OpenAI({ fetch, maxRetries: 0 })
 */
export function openai(options?: OpenAIPresetOptions): BreakwaterOptions {
  const name = 'openai'
  const o = presetArgs<OpenAIPresetOptions>(name, options, ['rpm', 'tpm', 'outputEstimate'])
  const rpm = limit(name, 'rpm', o.rpm)
  const tpm = limit(name, 'tpm', o.tpm)
  const outputEstimate = integer(`${name}.outputEstimate`, o.outputEstimate, 4_096, 1)
  const budgets: TokenBudget[] = []
  if (tpm !== undefined) {
    budgets.push({
      name: 'tokens',
      perMinute: tpm,
      estimate: (params) =>
        estimateInputTokens(params) + (requestedOutputTokens(params) ?? outputEstimate),
      actual: (outcome) => {
        const usage = usageOf(outcome)
        if (usage?.input === undefined || usage.output === undefined) return undefined
        return usage.input + usage.output
      },
      serverLimit: 'tokens',
    })
  }
  return assemble(
    o,
    {
      preset: name,
      buckets: { requests: 'rpm', tokens: 'tpm' },
      statuses: [408, 409, 429, ...serverErrors],
      retryOn,
      streamCommit: openaiStreamCommit,
      wire: { auth: (key) => ({ authorization: `Bearer ${key}` }), withModel: withBodyModel },
    },
    rpm === undefined ? [] : [{ name: 'requests', perMinute: rpm }],
    budgets,
  )
}
