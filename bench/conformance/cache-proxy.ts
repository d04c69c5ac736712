/**
 * A reverse proxy whose cache is breakwater's `createFetch` as a shared cache, or undici's cache
 * interceptor, for an HTTP cache conformance suite (http-tests/cache-tests) to run against:
 *
 *   node --import tsx bench/conformance/cache-proxy.ts --origin http://127.0.0.1:8000 \
 *     --port 8001 --cache breakwater            # or --cache undici
 *
 * It forwards every request to the origin through the cache, redirects unfollowed, and sends
 * the answer back as it came. Listens on 127.0.0.1 only.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { parseArgs } from 'node:util'
import { Agent, cacheStores, interceptors, fetch as undiciFetch } from 'undici'
import { createFetch } from '../../src/index.js'

type Send = (url: string, init: RequestInit) => Promise<Response>

const hopByHop = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'te',
  'host',
  'content-length',
])

/**
 * breakwater as a shared cache: no heuristic lifetime (`ttl: 0`), stale answers served for up to
 * a minute when the origin cannot be reached (RFC 9111 §4.2.4), nothing but the cache in the way.
 */
function breakwaterSend(): { send: Send; close: () => Promise<void> } {
  const agent = new Agent()
  const fetch = createFetch({
    cache: { shared: true, ttl: 0, staleIfError: 60_000 },
    retry: false,
    breaker: false,
    idempotency: false,
    fetch: (url, init) =>
      undiciFetch(url, { ...(init as object), redirect: 'manual', dispatcher: agent }) as never,
  })
  return {
    send: (url, init) => fetch(url, init),
    close: async () => {
      await fetch.close()
      await agent.close()
    },
  }
}

/** undici's cache interceptor, shared, in memory. */
function undiciSend(): { send: Send; close: () => Promise<void> } {
  const agent = new Agent().compose(
    interceptors.cache({ store: new cacheStores.MemoryCacheStore(), type: 'shared' }),
  )
  return {
    send: (url, init) =>
      undiciFetch(url, { ...(init as object), redirect: 'manual', dispatcher: agent }) as never,
    close: () => agent.close(),
  }
}

async function bodyOf(req: IncomingMessage): Promise<Buffer | undefined> {
  if (req.method === 'GET' || req.method === 'HEAD') return undefined
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
}

async function forward(send: Send, origin: string, req: IncomingMessage, res: ServerResponse) {
  const headers = new Headers()
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined || hopByHop.has(name)) continue
    for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v)
  }
  const body = await bodyOf(req)
  const init: RequestInit = { method: req.method ?? 'GET', headers }
  if (body !== undefined) init.body = body
  const answer = await send(`${origin}${req.url ?? '/'}`, init)
  const bytes = Buffer.from(await answer.arrayBuffer())
  const out: [string, string][] = []
  for (const [name, value] of answer.headers) {
    if (name === 'set-cookie') continue
    if (!hopByHop.has(name)) out.push([name, value])
  }
  for (const cookie of answer.headers.getSetCookie()) out.push(['set-cookie', cookie])
  if (answer.status !== 304 && answer.status !== 204)
    out.push(['content-length', String(bytes.length)])
  res.writeHead(answer.status, answer.statusText, out.flat())
  res.end(req.method === 'HEAD' ? undefined : bytes)
}

const { values } = parseArgs({
  options: {
    origin: { type: 'string', default: 'http://127.0.0.1:8000' },
    port: { type: 'string', default: '8001' },
    cache: { type: 'string', default: 'breakwater' },
  },
})
const subject = values.cache === 'undici' ? undiciSend() : breakwaterSend()
const server = createServer((req, res) => {
  forward(subject.send, values.origin, req, res).catch((error: unknown) => {
    res.writeHead(502, { 'content-type': 'text/plain' })
    res.end(String(error))
  })
})
server.listen(Number(values.port), '127.0.0.1', () => {
  console.log(`${values.cache} cache proxy on http://127.0.0.1:${values.port} -> ${values.origin}`)
})
process.on('SIGTERM', () => {
  server.close()
  subject.close().then(() => process.exit(0))
})
