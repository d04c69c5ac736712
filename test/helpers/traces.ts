import { createRandom } from '../../src/replay/random.js'
import { type Trace, TraceBuilder, type TraceRequest } from '../../src/replay/trace.js'

export interface Req {
  readonly key: string
  readonly t: number
  readonly method?: string
  readonly bytes?: number
  readonly status?: number
}

/** A trace from requests written as `{ key, t }`. */
export function traceOf(requests: readonly Req[]): Trace {
  const builder = new TraceBuilder()
  for (const r of requests) {
    const request: TraceRequest = {
      t: r.t,
      method: r.method ?? 'GET',
      url: r.key,
      key: r.key,
      bytes: r.bytes,
      status: r.status,
    }
    builder.add(request)
  }
  return builder.build()
}

/** `'A@0 B@5 A@12'` as requests. */
export function parse(text: string): Req[] {
  return text
    .trim()
    .split(/\s+/)
    .map((item) => {
      const [key = '', t = ''] = item.split('@')
      return { key, t: Number(t) }
    })
}

/** A random trace in time order: `n` requests over `keys` keys, gaps of 0 to `maxGap` ms. */
export function randomRequests(seed: number, n: number, keys: number, maxGap: number): Req[] {
  const random = createRandom(seed)
  let t = 0
  return Array.from({ length: n }, () => {
    t += Math.floor(random() * (maxGap + 1))
    // Skewed towards low ids, as real traffic is.
    const key = `k${Math.floor(random() * random() * keys)}`
    return { key, t, bytes: 100 + Math.floor(random() * 900) }
  })
}
