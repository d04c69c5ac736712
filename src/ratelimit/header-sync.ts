/**
 * What a server says of its own quota, read from its response headers: pure, `now` comes from
 * the caller. Three dialects:
 * - OpenAI: `x-ratelimit-remaining-{requests,tokens}` and `x-ratelimit-reset-{requests,tokens}`
 *   as Go durations (`6m0s`, `1s`, `12ms`);
 * - Anthropic: `anthropic-ratelimit-{requests,tokens,input-tokens,output-tokens}-{remaining,reset}`,
 *   the reset an RFC 3339 time, measured against the response's own `Date`;
 * - IETF draft-ietf-httpapi-ratelimit-headers: `RateLimit: "name";r=50;t=30`, whose policy's
 *   unit (`qu` in `RateLimit-Policy`, `requests` by default) names the limit.
 */

import type { HeaderReader } from '../http/header-reader.js'
import type { ServerLimit } from './options.js'

/** One server-side limit as the server reports it. */
export interface ServerQuota {
  /** Tokens (requests, or tokens of a model) the server has left. */
  readonly remaining: number
  /** ms until the server's limit resets (OpenAI, Anthropic: until it is full again). */
  readonly resetMs: number | undefined
}

export type ServerQuotas = Partial<Record<ServerLimit, ServerQuota>>

const limits: readonly ServerLimit[] = ['requests', 'tokens', 'input-tokens', 'output-tokens']
const count = /^\d+(?:\.\d+)?$/

/**
 * The server time of a response: its `Date` header, or `now` without one. Every reset and the
 * staleness of a response are judged on it, so that the local clock's skew does not enter.
 */
export function responseTime(header: HeaderReader, now: number): number {
  const date = header('date')
  const at = date === undefined ? Number.NaN : Date.parse(date)
  return Number.isNaN(at) ? now : at
}

/**
 * Every limit the headers report. When two dialects report the same limit, the lower remaining
 * wins: each is a bound the server enforces.
 */
export function readServerQuotas(header: HeaderReader, now: number): ServerQuotas {
  const quotas: ServerQuotas = {}
  const add = (limit: ServerLimit, quota: ServerQuota) => {
    const known = quotas[limit]
    if (known === undefined || quota.remaining < known.remaining) quotas[limit] = quota
  }
  const at = responseTime(header, now)
  for (const limit of limits) {
    const anthropic = remainingOf(header(`anthropic-ratelimit-${limit}-remaining`))
    if (anthropic !== undefined) {
      const reset = Date.parse(header(`anthropic-ratelimit-${limit}-reset`) ?? '')
      add(limit, {
        remaining: anthropic,
        resetMs: Number.isNaN(reset) ? undefined : Math.max(0, reset - at),
      })
    }
  }
  for (const limit of ['requests', 'tokens'] as const) {
    const openai = remainingOf(header(`x-ratelimit-remaining-${limit}`))
    if (openai !== undefined) {
      add(limit, { remaining: openai, resetMs: goDuration(header(`x-ratelimit-reset-${limit}`)) })
    }
  }
  for (const [limit, quota] of ietfQuotas(header)) add(limit, quota)
  return quotas
}

function remainingOf(value: string | undefined): number | undefined {
  const text = value?.trim()
  return text !== undefined && count.test(text) ? Number(text) : undefined
}

const units: Readonly<Record<string, number>> = {
  h: 3_600_000,
  m: 60_000,
  s: 1_000,
  ms: 1,
  us: 1e-3,
  µs: 1e-3,
  μs: 1e-3,
  ns: 1e-6,
}
// One number and its unit; `ms` before `m` so that the longer unit wins.
const durationPart = /(\d+(?:\.\d*)?|\.\d+)(h|ms|m|s|us|µs|μs|ns)/y

/**
 * A Go duration (`time.Duration.String()`: `6m0s`, `1.5s`, `12ms`, `1h2m3s`) in ms, or
 * `undefined` for anything else, a sign included: a reset is never in the past.
 */
export function goDuration(value: string | undefined): number | undefined {
  const text = value?.trim()
  if (text === undefined || text === '') return undefined
  if (text === '0') return 0
  durationPart.lastIndex = 0
  let ms = 0
  while (durationPart.lastIndex < text.length) {
    const match = durationPart.exec(text)
    if (match === null) return undefined
    ms += Number(match[1]) * (units[match[2] as string] as number)
  }
  return ms
}

/** `RateLimit` items joined to their `RateLimit-Policy` units; unknown units are left out. */
function ietfQuotas(header: HeaderReader): [ServerLimit, ServerQuota][] {
  const field = header('ratelimit')
  if (field === undefined) return []
  const unitOf = new Map<string, string>()
  for (const policy of parseList(header('ratelimit-policy') ?? '')) {
    unitOf.set(policy.name, policy.params.get('qu') ?? 'requests')
  }
  const found: [ServerLimit, ServerQuota][] = []
  for (const item of parseList(field)) {
    const unit = unitOf.get(item.name) ?? 'requests'
    const remaining = remainingOf(item.params.get('r'))
    if (unit !== 'requests' || remaining === undefined) continue
    const t = remainingOf(item.params.get('t'))
    found.push(['requests', { remaining, resetMs: t === undefined ? undefined : t * 1_000 }])
  }
  return found
}

interface ListItem {
  readonly name: string
  readonly params: ReadonlyMap<string, string>
}

// One member of a structured-field list: a string or token, then `;key=value` parameters.
const member =
  /\s*(?:"((?:[^"\\]|\\.)*)"|([A-Za-z*][\w:./*%!#$&'+^`|~-]*))((?:\s*;\s*[a-z*][a-z0-9_.*-]*(?:=(?:"(?:[^"\\]|\\.)*"|[^;,\s]*))?)*)\s*(?:,|$)/y
const param = /;\s*([a-z*][a-z0-9_.*-]*)(?:=(?:"((?:[^"\\]|\\.)*)"|([^;,\s]*)))?/g

/**
 * A lenient reader of RFC 8941 lists, enough for the rate-limit fields: a member it cannot
 * read ends the list, and what came before it is kept.
 */
function parseList(field: string): ListItem[] {
  const items: ListItem[] = []
  member.lastIndex = 0
  while (member.lastIndex < field.length) {
    const match = member.exec(field)
    if (match === null || match[0] === '') break
    const params = new Map<string, string>()
    for (const p of (match[3] ?? '').matchAll(param)) {
      params.set(p[1] as string, (p[2] ?? p[3] ?? '').replace(/\\(.)/g, '$1'))
    }
    items.push({ name: (match[1] ?? match[2] ?? '').replace(/\\(.)/g, '$1'), params })
  }
  return items
}
