import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { performance } from 'node:perf_hooks'
import { createRandom } from '../src/replay/random.js'

/**
 * How the benchmark upstream answers: its latency, its failures (a flaky or a down API) and its
 * quota (a strict rate limit). Random draws come from a seeded generator, so that two runs of a
 * scenario meet the same share of failures.
 */
export interface UpstreamOptions {
  /** Approximate size of each JSON body, in bytes. @default 2048 */
  bodyBytes?: number
  /** The `cache-control` header of every answer. @default 'max-age=3600' */
  cacheControl?: string
  /** ms the upstream waits before answering, as a remote API would. @default 0 */
  latencyMs?: number
  /** ms added to `latencyMs` at random, uniformly in [0, jitterMs). @default 0 */
  jitterMs?: number
  /** Share of requests answered `503` without `retry-after`, from 0 to 1. @default 0 */
  errorRate?: number
  /** Share of requests whose connection is destroyed before any answer, from 0 to 1. @default 0 */
  resetRate?: number
  /**
   * A strict quota: a token bucket of `burst` requests refilled at `perSecond`; a request that
   * finds it empty is answered `429` with `retry-after` (whole seconds until a token). @default none
   */
  quota?: { readonly perSecond: number; readonly burst: number }
  /** Seed of the draws for `jitterMs`, `errorRate` and `resetRate`. @default 1 */
  seed?: number
  /** Keep an `Answer` per request in `log` (for figures over time windows). @default false */
  log?: boolean
}

/** One request as the upstream answered it. */
export interface Answer {
  /** `performance.now()` when it was answered (or its connection destroyed), after any latency. */
  readonly at: number
  /** The first segment of its path: the subject it came from, when subjects share the upstream. */
  readonly segment: string
  readonly path: string
  /** What it was answered; 0 for a destroyed connection. */
  readonly status: number
}

export interface BenchUpstream {
  /** `http://127.0.0.1:PORT` */
  readonly url: string
  /** Requests answered so far; a cache hit must leave it unchanged. */
  readonly requests: number
  /** Requests answered `429` by the quota so far. */
  readonly rejected: number
  /** Every request so far, when `options.log` is set; empty otherwise. */
  readonly log: readonly Answer[]
  /** While true, every request is answered `503`: an outage. */
  down: boolean
  /** Requests whose path starts with `/<segment>/`: one upstream serving several subjects. */
  requestsUnder(segment: string): number
  /** Closes the server and every connection still open. */
  close(): Promise<void>
}

/**
 * A local `node:http` upstream on 127.0.0.1, port 0, that every subject of a scenario talks to,
 * so that peers are measured against the very same answers.
 */
export async function startUpstream(options: UpstreamOptions = {}): Promise<BenchUpstream> {
  const {
    bodyBytes = 2048,
    cacheControl = 'max-age=3600',
    latencyMs = 0,
    jitterMs = 0,
    errorRate = 0,
    resetRate = 0,
    quota,
    seed = 1,
    log = false,
  } = options
  if (!Number.isInteger(bodyBytes) || bodyBytes < 64) {
    throw new RangeError(`expected options.bodyBytes to be an integer ≥ 64, got ${bodyBytes}`)
  }
  for (const [name, value] of Object.entries({ latencyMs, jitterMs })) {
    if (!Number.isFinite(value) || value < 0) {
      throw new RangeError(`expected options.${name} to be a finite number ≥ 0, got ${value}`)
    }
  }
  if (!(errorRate >= 0 && resetRate >= 0 && errorRate + resetRate <= 1)) {
    throw new RangeError(
      `expected options.errorRate and options.resetRate in [0, 1] with a sum ≤ 1, got ${errorRate} and ${resetRate}`,
    )
  }
  if (quota !== undefined && !(quota.perSecond > 0 && quota.burst >= 1)) {
    throw new RangeError(
      `expected options.quota to have perSecond > 0 and burst ≥ 1, got ${JSON.stringify(quota)}`,
    )
  }
  // Two streams: how long answers wait never shifts which requests fail, whatever the timing.
  const failures = createRandom(seed)
  const delays = createRandom(seed + 1)
  // Bodies are built once per path: the upstream's own cost is not what a scenario measures.
  const bodies = new Map<string, Buffer>()
  const bySegment = new Map<string, number>()
  const answers: Answer[] = []
  let requests = 0
  let rejected = 0
  let down = false
  let tokens = quota?.burst ?? 0
  let refilledAt = performance.now()

  const record = (req: IncomingMessage, segment: string, status: number) => {
    if (log) answers.push({ at: performance.now(), segment, path: req.url ?? '/', status })
  }
  const answer = (req: IncomingMessage, res: ServerResponse, segment: string) => {
    const path = req.url ?? '/'
    let body = bodies.get(path)
    if (body === undefined) {
      body = Buffer.from(JSON.stringify(itemBody(path, bodyBytes)))
      bodies.set(path, body)
    }
    record(req, segment, 200)
    res.writeHead(200, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': body.byteLength,
      'cache-control': cacheControl,
      etag: `"${path.length.toString(16)}-${body.byteLength.toString(16)}"`,
    })
    res.end(body)
  }
  const fail = (
    req: IncomingMessage,
    res: ServerResponse,
    segment: string,
    status: number,
    retryAfter?: number,
  ) => {
    record(req, segment, status)
    const headers: Record<string, string> = { 'content-type': 'application/json' }
    if (retryAfter !== undefined) headers['retry-after'] = String(retryAfter)
    res.writeHead(status, headers)
    res.end(JSON.stringify({ error: status === 429 ? 'rate_limited' : 'unavailable' }))
  }
  const handle = (req: IncomingMessage, res: ServerResponse, segment: string) => {
    if (down) return fail(req, res, segment, 503)
    // One draw decides between a reset, a 503 and an answer: the two shares never overlap.
    const draw = errorRate + resetRate > 0 ? failures() : 1
    if (draw < resetRate) {
      record(req, segment, 0)
      req.socket.destroy()
      return
    }
    if (draw < resetRate + errorRate) return fail(req, res, segment, 503)
    answer(req, res, segment)
  }
  const server = createServer((req, res) => {
    requests++
    const segment = (req.url ?? '/').split('/')[1] ?? ''
    bySegment.set(segment, (bySegment.get(segment) ?? 0) + 1)
    req.resume()
    if (quota !== undefined) {
      const now = performance.now()
      tokens = Math.min(quota.burst, tokens + ((now - refilledAt) * quota.perSecond) / 1_000)
      refilledAt = now
      if (tokens < 1) {
        rejected++
        return fail(req, res, segment, 429, Math.ceil((1 - tokens) / quota.perSecond))
      }
      tokens--
    }
    const wait = latencyMs + (jitterMs > 0 ? delays() * jitterMs : 0)
    if (wait === 0) handle(req, res, segment)
    else setTimeout(() => handle(req, res, segment), wait)
  })
  const { url, close } = await listenLocal(server)
  return {
    url,
    get requests() {
      return requests
    },
    get rejected() {
      return rejected
    },
    log: answers,
    get down() {
      return down
    },
    set down(value: boolean) {
      down = value
    },
    requestsUnder: (segment) => bySegment.get(segment) ?? 0,
    close,
  }
}

/** A server listening on 127.0.0.1, and how to end it. */
export interface Listening {
  /** `http://127.0.0.1:PORT` */
  readonly url: string
  /**
   * Closes the server and every connection still open, idle or mid-answer: a stalled or
   * trickling answer would otherwise hold `server.close` until its client gives up.
   */
  close(): Promise<void>
}

/** Listens on a free port of 127.0.0.1, as the benchmark and the chaos upstreams do. */
export async function listenLocal(server: Server): Promise<Listening> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()))
        server.closeAllConnections()
      }),
  }
}

/**
 * A catalog item like those a product or search API returns: nested objects, arrays, numbers
 * and prose, so that parsing and cloning it costs what a real body would.
 */
function itemBody(path: string, bytes: number): Record<string, unknown> {
  const item = {
    id: path.split('/').pop() ?? path,
    object: 'item',
    title: 'Insulated stainless steel water bottle, 750 ml',
    status: 'active',
    price: { amount: 2499, currency: 'EUR', taxIncluded: true },
    stock: { available: 148, reserved: 12, warehouse: 'ams-2' },
    tags: ['outdoor', 'kitchen', 'bpa-free', 'gift'],
    createdAt: '2024-03-18T09:41:07.000Z',
    updatedAt: '2024-11-02T16:05:55.000Z',
    variants: [] as Record<string, unknown>[],
  }
  for (let i = 0; JSON.stringify(item).length < bytes - 120; i++) {
    item.variants.push({
      sku: `WB-750-${String(i).padStart(3, '0')}`,
      color: ['slate', 'sand', 'moss', 'coral'][i % 4],
      weightGrams: 320 + i,
      barcode: String(4006381333931 + i),
      inStock: i % 3 !== 0,
    })
  }
  return item
}
