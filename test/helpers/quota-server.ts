import type { Clock } from '../../src/core/clock.js'
import { reply, startUpstream, type Upstream } from './upstream.js'

export interface QuotaServerOptions {
  /** Requests the server admits per second. */
  readonly perSecond: number
  /** Requests it admits at once after a quiet spell. */
  readonly burst: number
  /** Extra response headers, given the tokens the server has left after this request. */
  readonly headers?: (remaining: number) => Record<string, string>
  /** What the server's bucket counts on; a test on manual time gives its own. @default performance.now */
  readonly clock?: Clock
}

export interface QuotaServer {
  readonly url: string
  readonly upstream: Upstream
  /** Requests answered 200. */
  readonly admitted: number
  /** Requests answered 429. */
  readonly rejected: number
  /** ms (on its clock) from the first request to the last since the last reset; 0 before two. */
  readonly span: number
  /** Fills the bucket again and zeroes the counts. */
  reset(): void
  close(): Promise<void>
}

/**
 * A local upstream that enforces a strict quota of its own, as an LLM provider does: a token
 * bucket (kept as tokens and a timestamp, on purpose unlike breakwater's own math) that answers
 * 429 with Retry-After once it is empty.
 */
export async function startQuotaServer(options: QuotaServerOptions): Promise<QuotaServer> {
  const { perSecond, burst, headers = () => ({}), clock = performance } = options
  let tokens = burst
  let last = clock.now()
  let admitted = 0
  let rejected = 0
  let first: number | undefined
  let latest = 0
  const upstream = await startUpstream((_req, res, seen) => {
    const now = clock.now()
    first ??= now
    latest = now
    tokens = Math.min(burst, tokens + ((now - last) * perSecond) / 1_000)
    last = now
    if (tokens < 1) {
      rejected++
      const retryAfter = Math.ceil((1 - tokens) / perSecond)
      reply(res, 429, 'quota exceeded', { 'retry-after': String(retryAfter), ...headers(tokens) })
      return
    }
    tokens -= 1
    admitted++
    reply(res, 200, seen.url, { 'content-type': 'text/plain', ...headers(tokens) })
  })
  return {
    url: upstream.url,
    upstream,
    get admitted() {
      return admitted
    },
    get rejected() {
      return rejected
    },
    get span() {
      return first === undefined ? 0 : latest - first
    },
    reset() {
      tokens = burst
      last = clock.now()
      admitted = 0
      rejected = 0
      first = undefined
    },
    close: () => upstream.close(),
  }
}
