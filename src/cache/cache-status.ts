/**
 * The `Cache-Status` field (RFC 9211) and the `Age` of what the cache serves. Pure.
 */
import type { HeaderPairs, HttpOutcome, Outcome } from '../core/outcome.js'

/** The cache's identifier in `Cache-Status`. */
export const cacheId = 'breakwater'

/**
 * The answer with this cache's `Cache-Status` member (`status`: its parameters, such as
 * `hit; ttl=12` or `fwd=uri-miss; stored`) after any an upstream cache sent, and with `Age`
 * set to `ageMs` in whole seconds when given. A value outcome is returned as it is.
 */
export function withStatus<T extends Outcome>(outcome: T, status: string, ageMs?: number): T {
  if (outcome.kind !== 'http') return outcome
  const headers: [string, string][] = []
  let upstream: string | undefined
  for (const pair of outcome.headers) {
    const [name, value] = pair
    if (name === 'cache-status') upstream = upstream === undefined ? value : `${upstream}, ${value}`
    else if (ageMs === undefined || name !== 'age') headers.push(pair as [string, string])
  }
  if (ageMs !== undefined) headers.push(['age', String(Math.max(0, Math.floor(ageMs / 1000)))])
  const member = `${cacheId}; ${status}`
  headers.push(['cache-status', upstream === undefined ? member : `${upstream}, ${member}`])
  return { ...(outcome as HttpOutcome), headers } as unknown as T
}

/** `hit; ttl=N`: N whole seconds of freshness left, negative once stale. */
export const hitStatus = (remainingMs: number): string =>
  `hit; ttl=${Math.floor(remainingMs / 1000)}`

/**
 * Hop-by-hop fields (RFC 9110 §7.6.1) and those `Connection` names: they belong to one
 * connection and are never stored (RFC 9111 §3.1).
 */
export function withoutHopByHop(headers: HeaderPairs): HeaderPairs {
  const dropped = new Set(hopByHop)
  for (const [name, value] of headers) {
    if (name !== 'connection') continue
    for (const part of value.split(',')) dropped.add(part.trim().toLowerCase())
  }
  if (!headers.some(([name]) => dropped.has(name))) return headers
  return headers.filter(([name]) => !dropped.has(name))
}

const hopByHop = [
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'transfer-encoding',
  'upgrade',
  'proxy-authenticate',
  'proxy-authentication-info',
  'proxy-authorization',
]
