import { type Call, type HttpCall, targetOf } from '../core/call.js'
import type { ResolvedTarget } from './options.js'

/**
 * The call as `target` sends it: its own URL, headers and body for a fetch (the target's
 * `request`, `origin` and `headers`), its own function for a wrap, and `via` set to its name, so
 * that the breaker and the buckets below keep the target's state apart. Everything else (key,
 * signal, deadline, flags) is the caller's call.
 */
export async function callVia(call: Call, target: ResolvedTarget): Promise<Call> {
  const via = target.name
  if (call.kind === 'value') {
    return { ...call, via, fn: target.fn ?? call.fn, details: { ...call.details, via } }
  }
  const given = target.request === undefined ? undefined : await target.request(call.details)
  let url = new URL(given?.url ?? call.url)
  if (target.origin !== undefined) url = new URL(`${url.pathname}${url.search}`, target.origin)
  const method = given?.method.toUpperCase() ?? call.method
  // Each target gets headers of its own: another target's key must never leak into them.
  const rewritten = given !== undefined || target.headers !== undefined
  const headers = rewritten ? new Headers(given?.headers ?? call.headers) : call.headers
  for (const [name, value] of Object.entries(target.headers ?? {})) headers.set(name, value)
  const body =
    given === undefined
      ? call.body
      : given.body === null
        ? undefined
        : new Uint8Array(await given.arrayBuffer())
  const targeted: HttpCall = {
    ...call,
    method,
    url: url.href,
    origin: url.origin,
    target: targetOf(url),
    headers,
    body,
    via,
    details: { ...call.details, method, url: url.href, origin: url.origin, headers, body, via },
  }
  return targeted
}
