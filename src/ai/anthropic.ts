import { integer } from '../core/validate.js'
import type { BreakwaterOptions } from '../options.js'
import type { RetryContext } from '../retry/options.js'
import { streamErrorHeader } from '../stream/stream-bodies.js'
import { withBodyModel } from './pool.js'
import {
  assemble,
  limit,
  type PresetOptions,
  presetArgs,
  serverErrors,
  type TokenBudget,
} from './preset.js'
import { anthropicStreamCommit } from './stream-commit.js'
import { estimateInputTokens, requestedOutputTokens } from './tokens.js'
import { usageOf } from './usage.js'

export interface AnthropicPresetOptions
  extends PresetOptions<'requests' | 'inputTokens' | 'outputTokens'> {
  /** Requests per minute of your tier. @default no requests budget */
  rpm?: number
  /** Input tokens per minute (ITPM): prompt plus cache writes; cache reads do not count. */
  inputTpm?: number
  /** Output tokens per minute (OTPM). */
  outputTpm?: number
  /** Output tokens reserved for a call that names no `max_tokens`. @default 4_096 */
  outputEstimate?: number
}

/**
 * Anthropic's 429 for a spend limit (a workspace or organisation out of credit) carries no
 * `retry-after`: only a person can lift it. A rate-limit 429 always says when to come back.
 * `x-should-retry` from the server, when present, keeps the last word.
 */
function retryOn(context: RetryContext): boolean | undefined {
  if (context.status !== 429 || context.header('x-should-retry') !== undefined) return undefined
  // A `rate_limit_error` inside a stream: a spend limit refuses the request before it streams.
  if (context.header(streamErrorHeader) !== undefined) return undefined
  const told = context.header('retry-after') ?? context.header('retry-after-ms')
  return told === undefined ? false : undefined
}

/**
 * Breakwater options for the Anthropic Messages API, to spread into `createFetch` (for
 * `new Anthropic({ fetch, maxRetries: 0 })`) or `wrap`.
 *
 * - Retries 408, 409, 429, 529 (overloaded) and other 5xx, as long as the server's
 *   `retry-after-ms` / `retry-after` / `x-should-retry` allow; never a spend-limit 429.
 * - Budgets: `rpm`, `inputTpm`, `outputTpm`, checked together, each holding a minute's worth
 *   (`burst` sizes them). A call reserves its estimated input and its `max_tokens` of output,
 *   and settles both from `usage` (refund or debt); `anthropic-ratelimit-*` headers lower them.
 * - Caches and merges only calls at `temperature: 0`, which the Messages API of SDK 1.x no
 *   longer takes: Anthropic calls are cached with `cacheNonDeterministic: true`, the
 *   application's choice. Streams pass through unless `cacheStreams`.
 *
 * @example
 * const fetch = createFetch(anthropic({ rpm: 50, inputTpm: 30_000, outputTpm: 8_000 }))
 * const client = new Anthropic({ fetch, maxRetries: 0 })
 */
export function anthropic(options?: AnthropicPresetOptions): BreakwaterOptions {
  const name = 'anthropic'
  const o = presetArgs<AnthropicPresetOptions>(name, options, [
    'rpm',
    'inputTpm',
    'outputTpm',
    'outputEstimate',
  ])
  const rpm = limit(name, 'rpm', o.rpm)
  const inputTpm = limit(name, 'inputTpm', o.inputTpm)
  const outputTpm = limit(name, 'outputTpm', o.outputTpm)
  const outputEstimate = integer(`${name}.outputEstimate`, o.outputEstimate, 4_096, 1)
  const budgets: TokenBudget[] = []
  if (inputTpm !== undefined) {
    budgets.push({
      name: 'inputTokens',
      perMinute: inputTpm,
      estimate: estimateInputTokens,
      actual: (outcome) => usageOf(outcome)?.input,
      serverLimit: 'input-tokens',
    })
  }
  if (outputTpm !== undefined) {
    budgets.push({
      name: 'outputTokens',
      perMinute: outputTpm,
      // Output is only known at the end: the most the call may write is held until then.
      estimate: (params) => requestedOutputTokens(params) ?? outputEstimate,
      actual: (outcome) => usageOf(outcome)?.output,
      serverLimit: 'output-tokens',
    })
  }
  return assemble(
    o,
    {
      preset: name,
      buckets: { requests: 'rpm', inputTokens: 'inputTpm', outputTokens: 'outputTpm' },
      statuses: [408, 409, 429, ...serverErrors],
      retryOn,
      streamCommit: anthropicStreamCommit,
      wire: { auth: (key) => ({ 'x-api-key': key }), withModel: withBodyModel },
    },
    rpm === undefined ? [] : [{ name: 'requests', perMinute: rpm }],
    budgets,
  )
}
