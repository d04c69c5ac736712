import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { credentialHeaders } from '../../src/core/key.js'
import { listenLocal } from '../upstream.js'

/**
 * How the chaos upstream answers a path, by its first segment:
 * `ok` answers at once (after the latency); `reset` destroys the connection; `trickle` sends
 * its body a few bytes at a time, slowly, but whole; `truncate` promises more bytes than it
 * sends, then closes; `silent` accepts the request and never answers; `stall` sends the
 * headers and half the body, then nothing more.
 */
export const faultModes = ['ok', 'reset', 'trickle', 'truncate', 'silent', 'stall'] as const
export type FaultMode = (typeof faultModes)[number]

export interface FaultUpstreamOptions {
  /** ms before any answer starts. @default 0 */
  readonly latencyMs?: number
  /** ms between two pieces of a trickled body. @default 25 */
  readonly trickleMs?: number
  /** Answer every response with `set-cookie: sid=<request number>`. @default false */
  readonly setCookie?: boolean
  /** `cache-control` of the answers. @default 'max-age=60' */
  readonly cacheControl?: string
  /** A strict quota: `burst` requests, refilled at `perSecond`; past it, 429 with Retry-After. */
  readonly quota?: { readonly perSecond: number; readonly burst: number }
}

/** What the `ok`, `trickle` and `stall` answers hold. */
export interface Echo {
  readonly n: number
  readonly path: string
  /** The credential headers the request carried, by name. */
  readonly credentials: Readonly<Record<string, string>>
}

export interface FaultUpstream {
  readonly url: string
  readonly requests: number
  /** Requests seen per `idempotency-key`, to find a key sent more than once. */
  readonly keys: ReadonlyMap<string, number>
  /** `performance.now()` of every 429 the quota answered. */
  readonly refusals: readonly number[]
  /** Answers given 200 by the quota (all but its 429s). */
  readonly admitted: number
  close(): Promise<void>
}

export async function startFaultUpstream(
  options: FaultUpstreamOptions = {},
): Promise<FaultUpstream> {
  const { latencyMs = 0, trickleMs = 25, setCookie = false, cacheControl = 'max-age=60' } = options
  const keys = new Map<string, number>()
  const refusals: number[] = []
  const quota = options.quota
  let tokens = quota?.burst ?? 0
  let refilledAt = performance.now()
  let requests = 0
  let admitted = 0

  const overQuota = (res: ServerResponse): boolean => {
    if (quota === undefined) return false
    const now = performance.now()
    tokens = Math.min(quota.burst, tokens + ((now - refilledAt) * quota.perSecond) / 1_000)
    refilledAt = now
    if (tokens >= 1) {
      tokens--
      admitted++
      return false
    }
    refusals.push(now)
    res.writeHead(429, { 'retry-after': String(Math.ceil((1 - tokens) / quota.perSecond)) })
    res.end('{"error":"rate_limited"}')
    return true
  }

  const server = createServer((req, res) => {
    const n = requests++
    const key = req.headers['idempotency-key']
    if (typeof key === 'string') keys.set(key, (keys.get(key) ?? 0) + 1)
    req.resume()
    res.on('error', () => {})
    if (overQuota(res)) return
    const answer = () => respond(req, res, n, modeOf(req.url ?? '/'))
    if (latencyMs === 0) answer()
    else setTimeout(answer, latencyMs)
  })

  function respond(req: IncomingMessage, res: ServerResponse, n: number, mode: FaultMode) {
    if (mode === 'silent' || req.socket.destroyed) return
    if (mode === 'reset') return void req.socket.destroy()
    const body = Buffer.from(JSON.stringify(echoOf(req, n)).padEnd(400, ' '))
    const headers: Record<string, string | number> = {
      'content-type': 'application/json',
      'content-length': mode === 'truncate' ? body.byteLength * 2 : body.byteLength,
      'cache-control': cacheControl,
    }
    if (setCookie) headers['set-cookie'] = `sid=${n}; Path=/; HttpOnly`
    res.writeHead(req.method === 'POST' ? 201 : 200, headers)
    if (mode === 'ok') return void res.end(body)
    if (mode === 'truncate') {
      res.write(body)
      return void setTimeout(() => req.socket.destroy(), 5)
    }
    if (mode === 'stall') return void res.write(body.subarray(0, body.byteLength / 2))
    trickle(res, body, trickleMs)
  }

  server.keepAliveTimeout = 1_000
  const { url, close } = await listenLocal(server)
  return {
    url,
    get requests() {
      return requests
    },
    get admitted() {
      return admitted
    },
    keys,
    refusals,
    close,
  }
}

function modeOf(path: string): FaultMode {
  const segment = path.split('/')[1] ?? ''
  return (faultModes as readonly string[]).includes(segment) ? (segment as FaultMode) : 'ok'
}

function echoOf(req: IncomingMessage, n: number): Echo {
  const credentials: Record<string, string> = {}
  for (const name of credentialHeaders) {
    const value = req.headers[name]
    if (typeof value === 'string') credentials[name] = value
  }
  return { n, path: req.url ?? '/', credentials }
}

/** Writes `body` in ten pieces, `everyMs` apart, stopping if the connection goes. */
function trickle(res: ServerResponse, body: Buffer, everyMs: number): void {
  const piece = Math.ceil(body.byteLength / 10)
  let sent = 0
  const next = () => {
    if (res.destroyed) return
    const end = Math.min(body.byteLength, sent + piece)
    const chunk = body.subarray(sent, end)
    sent = end
    if (sent >= body.byteLength) return void res.end(chunk)
    res.write(chunk)
    setTimeout(next, everyMs)
  }
  next()
}
