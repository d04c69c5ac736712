import type { BreakwaterOptions } from '../options.js'
import type { RetryContext } from '../retry/options.js'
import { errorOf } from './error-body.js'
import { isRecord } from './params.js'
import { withPathModel } from './pool.js'
import {
  assemble,
  limit,
  type PresetOptions,
  presetArgs,
  type RequestBudget,
  serverErrors,
  type TokenBudget,
} from './preset.js'
import { geminiStreamCommit } from './stream-commit.js'
import { estimateInputTokens } from './tokens.js'
import { usageOf } from './usage.js'

export interface GeminiPresetOptions
  extends PresetOptions<'requests' | 'requestsPerDay' | 'inputTokens'> {
  /** Requests per minute of your project's tier. @default no requests budget */
  rpm?: number
  /** Input tokens per minute (Gemini counts input only). */
  tpm?: number
  /** Requests per day. */
  rpd?: number
}

const retryInfo = 'type.googleapis.com/google.rpc.RetryInfo'
const quotaFailure = 'type.googleapis.com/google.rpc.QuotaFailure'

/** The `details` of a Gemini error (`google.rpc.Status`). */
function detailsOf(context: RetryContext): Record<string, unknown>[] {
  const { details } = errorOf(context)
  return Array.isArray(details) ? details.filter(isRecord) : []
}

/**
 * A per-day quota (`…PerDay…` in the violated quota's id or metric) is spent until midnight
 * Pacific: retrying only burns the attempts. A per-minute one is retried after its delay.
 */
function retryOn(context: RetryContext): boolean | undefined {
  if (context.status !== 429) return undefined
  for (const detail of detailsOf(context)) {
    if (detail['@type'] !== quotaFailure || !Array.isArray(detail.violations)) continue
    for (const violation of detail.violations) {
      if (!isRecord(violation)) continue
      const id = `${violation.quotaId ?? ''} ${violation.quotaMetric ?? ''}`
      if (/per[_ ]?day|_requests_per_day/i.test(id)) return false
    }
  }
  return undefined
}

/**
 * Gemini sends no `Retry-After`: the wait is `RetryInfo.retryDelay` in the body, a protobuf
 * Duration in JSON (`"45.837906927s"`).
 */
function retryAfter(context: RetryContext): number | undefined {
  for (const detail of detailsOf(context)) {
    if (detail['@type'] !== retryInfo) continue
    const ms = protoDuration(detail.retryDelay)
    if (ms !== undefined) return ms
  }
  return undefined
}

/** A protobuf `Duration` in its JSON form (`"1.5s"`) in ms, or `undefined`. */
export function protoDuration(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined
  const match = /^(\d+(?:\.\d+)?)s$/.exec(value.trim())
  return match === null ? undefined : Number(match[1]) * 1_000
}

/**
 * Breakwater options for the Gemini API (`generateContent`, `streamGenerateContent`), to
 * spread into `createFetch` (for `new GoogleGenAI({ httpOptions: { fetch } })`) or `wrap`.
 *
 * - Retries 408, 429 and 5xx after `RetryInfo.retryDelay` from the 429's body; never a
 *   per-day quota failure.
 * - Budgets: `rpm`, `tpm` (input tokens) and `rpd`, checked together, holding a minute's worth
 *   (`rpd`: a day's; `burst` sizes them); input settled from
 *   `usageMetadata`. Gemini sends no rate-limit headers.
 * - Caches and merges only calls at `temperature: 0` (or all with `cacheNonDeterministic`);
 *   streams pass through unless `cacheStreams`.
 *
 * @example
 * const fetch = createFetch(gemini({ rpm: 15, tpm: 1_000_000, rpd: 1_500 }))
 * const ai = new GoogleGenAI({ apiKey, httpOptions: { fetch } })
 */
export function gemini(options?: GeminiPresetOptions): BreakwaterOptions {
  const name = 'gemini'
  const o = presetArgs<GeminiPresetOptions>(name, options, ['rpm', 'tpm', 'rpd'])
  const rpm = limit(name, 'rpm', o.rpm)
  const tpm = limit(name, 'tpm', o.tpm)
  const rpd = limit(name, 'rpd', o.rpd)
  const requests: RequestBudget[] = []
  if (rpm !== undefined) requests.push({ name: 'requests', perMinute: rpm })
  // A day's quota may all be spent at once; what refills it is the passing day.
  if (rpd !== undefined)
    requests.push({ name: 'requestsPerDay', perMinute: rpd / 1_440, capacity: rpd })
  const budgets: TokenBudget[] = []
  if (tpm !== undefined) {
    budgets.push({
      name: 'inputTokens',
      perMinute: tpm,
      estimate: estimateInputTokens,
      actual: (outcome) => usageOf(outcome)?.input,
      serverLimit: false,
    })
  }
  return assemble(
    o,
    {
      preset: name,
      buckets: { requests: 'rpm', requestsPerDay: 'rpd', inputTokens: 'tpm' },
      statuses: [408, 429, ...serverErrors],
      retryOn,
      retryAfter,
      streamCommit: geminiStreamCommit,
      wire: { auth: (key) => ({ 'x-goog-api-key': key }), withModel: withPathModel },
    },
    requests,
    budgets,
  )
}
