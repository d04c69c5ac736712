/**
 * Which LLM calls the cache may answer and merge: pure. A sampled answer is one draw among
 * many; replaying it to another caller, or handing one draw to two concurrent callers, changes
 * what they asked for. Only a call at temperature 0 asks for the one most likely answer.
 */
import type { CallDetails } from '../core/call.js'
import { isRecord, isStreamCall, type Params, paramsOf } from './params.js'

export interface CachePolicy {
  /** Cache and merge calls at any temperature, too. */
  readonly cacheNonDeterministic: boolean
  /** Cache and merge streamed calls, replayed as the same stream. */
  readonly cacheStreams: boolean
}

/**
 * The sampling temperature a request asks for: top-level (Anthropic, OpenAI),
 * `generationConfig.temperature` (Gemini REST) or `config.temperature` (@google/genai).
 * `undefined` when unset, which every provider reads as a temperature above 0.
 */
export function temperatureOf(params: Params): number | undefined {
  for (const holder of [params, params.generationConfig, params.config]) {
    if (isRecord(holder) && typeof holder.temperature === 'number') return holder.temperature
  }
  return undefined
}

/** A request that asks for the same answer each time: temperature 0. */
export function isDeterministic(params: Params): boolean {
  return temperatureOf(params) === 0
}

/**
 * May the cache answer, store and merge this call? Reads (GET, HEAD: model lists) always; a
 * generation when it is deterministic (or `cacheNonDeterministic`) and, if streamed, only with
 * `cacheStreams`; a body that is not JSON never.
 */
export function isCacheableCall(call: CallDetails, policy: CachePolicy): boolean {
  if (call.method === 'GET' || call.method === 'HEAD') return true
  const params = paramsOf(call)
  if (params === undefined) return false
  if (isStreamCall(call, params) && !policy.cacheStreams) return false
  return policy.cacheNonDeterministic || isDeterministic(params)
}
