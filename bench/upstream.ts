import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

/** How the benchmark upstream answers. Later scenarios add failure and quota profiles here. */
export interface UpstreamOptions {
  /** Approximate size of each JSON body, in bytes. @default 2048 */
  bodyBytes?: number
  /** The `cache-control` header of every answer. @default 'max-age=3600' */
  cacheControl?: string
  /** ms the upstream waits before answering, as a remote API would. @default 0 */
  latencyMs?: number
}

export interface BenchUpstream {
  /** `http://127.0.0.1:PORT` */
  readonly url: string
  /** Requests answered so far; a cache hit must leave it unchanged. */
  readonly requests: number
  /** Closes the server and every connection still open. */
  close(): Promise<void>
}

/**
 * A local `node:http` upstream on 127.0.0.1, port 0, that every subject of a scenario talks to,
 * so that peers are measured against the very same answers.
 */
export async function startUpstream(options: UpstreamOptions = {}): Promise<BenchUpstream> {
  const { bodyBytes = 2048, cacheControl = 'max-age=3600', latencyMs = 0 } = options
  if (!Number.isInteger(bodyBytes) || bodyBytes < 64) {
    throw new RangeError(`expected options.bodyBytes to be an integer ≥ 64, got ${bodyBytes}`)
  }
  if (!Number.isFinite(latencyMs) || latencyMs < 0) {
    throw new RangeError(`expected options.latencyMs to be a finite number ≥ 0, got ${latencyMs}`)
  }
  // Bodies are built once per path: the upstream's own cost is not what a scenario measures.
  const bodies = new Map<string, Buffer>()
  let requests = 0
  const answer = (req: IncomingMessage, res: ServerResponse) => {
    const path = req.url ?? '/'
    let body = bodies.get(path)
    if (body === undefined) {
      body = Buffer.from(JSON.stringify(itemBody(path, bodyBytes)))
      bodies.set(path, body)
    }
    res.writeHead(200, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': body.byteLength,
      'cache-control': cacheControl,
      etag: `"${path.length.toString(16)}-${body.byteLength.toString(16)}"`,
    })
    res.end(body)
  }
  const server = createServer((req, res) => {
    requests++
    req.resume()
    if (latencyMs === 0) answer(req, res)
    else setTimeout(() => answer(req, res), latencyMs)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    get requests() {
      return requests
    },
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
