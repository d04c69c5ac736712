/**
 * The presets' pools: several API keys of one provider, one target each, and models to fall
 * back to. For `createFetch` only: the targets rewrite requests.
 */
import type { CallDetails } from '../core/call.js'
import { isNonEmptyString, show } from '../core/validate.js'
import type { FetchTarget, PoolOptions } from '../pool/options.js'
import { isRecord, paramsOf } from './params.js'

/** What a preset adds to its pool. */
export interface PresetPoolOptions {
  /**
   * API keys to spread the calls over: one pool target each, named `key-1`, `key-2`... (never
   * the key), each with budgets and a breaker of its own. The key the SDK was given is
   * replaced. createFetch only.
   */
  keys?: readonly string[]
  /**
   * Models to fall back to, in order, once the call's own model has failed on every key (the
   * `model` of the request, the path for Gemini). Targets named `model:<name>`. createFetch
   * only.
   */
  fallbackModels?: readonly string[]
  /** A pool of your own (base URLs, deployments, `failoverOn`, `cooldown`); see `PoolOptions`. */
  pool?: PoolOptions<FetchTarget>
}

/** How one provider is told its key and its model. */
export interface ProviderWire {
  /** The headers that carry `key`. */
  readonly auth: (key: string) => Record<string, string>
  /** The request of `call` with `model` in place of its own. */
  readonly withModel: (call: CallDetails, model: string) => Request
}

/** The pool of a preset's options, or `undefined` when it names none. */
export function presetPool(
  preset: string,
  o: PresetPoolOptions,
  wire: ProviderWire,
): PoolOptions<FetchTarget> | undefined {
  const keys = strings(`${preset}.keys`, o.keys)
  const models = strings(`${preset}.fallbackModels`, o.fallbackModels)
  if (keys.length === 0 && models.length === 0) return o.pool
  const own = o.pool ?? {}
  const targets: FetchTarget[] = keys.map((key, i) => ({
    name: `key-${i + 1}`,
    headers: wire.auth(key),
  }))
  const first = keys[0]
  const fallbacks: FetchTarget[] = models.map((model) => ({
    name: `model:${model}`,
    request: (call: CallDetails) => wire.withModel(call, model),
    ...(first === undefined ? {} : { headers: wire.auth(first) }),
  }))
  return {
    ...own,
    ...(targets.length > 0 || own.targets !== undefined
      ? { targets: [...(own.targets ?? []), ...targets] }
      : {}),
    fallbacks: [...(own.fallbacks ?? []), ...fallbacks],
  }
}

function strings(name: string, value: unknown): readonly string[] {
  if (value === undefined) return []
  if (!Array.isArray(value) || value.length === 0 || !value.every(isNonEmptyString)) {
    throw new TypeError(
      `${name} must be a non-empty array of non-empty strings, got ${show(value)}`,
    )
  }
  return value
}

/** The call's request with `model` in its JSON body (Anthropic, OpenAI). */
export function withBodyModel(call: CallDetails, model: string): Request {
  const params = paramsOf(call)
  const body = isRecord(params) ? JSON.stringify({ ...params, model }) : call.body
  const headers = new Headers(call.headers)
  // The body's length changed with the model's name.
  headers.delete('content-length')
  return new Request(call.url, {
    method: call.method,
    headers,
    ...(body === undefined ? {} : { body }),
  })
}

/** The call's request with `model` in its path (Gemini: `models/{model}:method`). */
export function withPathModel(call: CallDetails, model: string): Request {
  const url = new URL(call.url)
  url.pathname = url.pathname.replace(/\/models\/[^/:]+/, `/models/${encodeURIComponent(model)}`)
  return new Request(url, {
    method: call.method,
    headers: new Headers(call.headers),
    ...(call.body === undefined ? {} : { body: call.body }),
  })
}
