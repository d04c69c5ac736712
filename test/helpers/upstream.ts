import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, afterEach, beforeAll } from 'vitest'
import { type BreakwaterFetch, createFetch } from '../../src/index.js'

export interface Seen {
  readonly method: string
  readonly url: string
  readonly headers: IncomingMessage['headers']
  readonly body: string
}

export type Handler = (
  req: IncomingMessage,
  res: ServerResponse,
  seen: Seen,
  index: number,
) => void | Promise<void>

export interface Upstream {
  /** `http://127.0.0.1:PORT` */
  readonly url: string
  /** Every request received, in order. */
  readonly requests: Seen[]
  /** Replaces the handler for the next requests. */
  handle(handler: Handler): void
  /** Closes the server and every connection still open. */
  close(): Promise<void>
}

/** A real `node:http` server on 127.0.0.1, port 0, whose answers a test scripts. */
export async function startUpstream(handler: Handler = defaultHandler): Promise<Upstream> {
  let current = handler
  const requests: Seen[] = []
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    const seen: Seen = {
      method: req.method ?? 'GET',
      url: req.url ?? '/',
      headers: req.headers,
      body: Buffer.concat(chunks).toString('utf8'),
    }
    requests.push(seen)
    try {
      await current(req, res, seen, requests.length - 1)
    } catch (error) {
      if (!res.headersSent) res.writeHead(500)
      res.end(String(error))
    }
  })
  server.keepAliveTimeout = 1_000
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    handle(next) {
      current = next
    },
    close() {
      return new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      })
    },
  }
}

/** 200 with a JSON body naming the request, so callers can tell answers apart. */
export const defaultHandler: Handler = (_req, res, seen, index) => {
  res.writeHead(200, { 'content-type': 'application/json' })
  res.end(JSON.stringify({ n: index, method: seen.method, url: seen.url }))
}

/** Answers `status` with optional headers and body. */
export function reply(
  res: ServerResponse,
  status: number,
  body = '',
  headers: Record<string, string> = {},
) {
  res.writeHead(status, headers)
  res.end(body)
}

/** Destroys the socket without answering: the client sees a connection reset. */
export function reset(req: IncomingMessage): void {
  req.socket.destroy()
}

export const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** What `defaultHandler` answers. */
export interface Echo {
  readonly n: number
  readonly method: string
  readonly url: string
}

/** Reads a Response of `defaultHandler`. */
export async function echoOf(res: Response): Promise<Echo> {
  return (await res.json()) as Echo
}

/** What `useUpstream` gives the tests of a file or describe block. */
export interface UpstreamSuite {
  /** The shared upstream; it only exists from `beforeAll` on, so read it inside tests and hooks. */
  readonly up: Upstream
  /** `createFetch`, keeping each instance so that it is closed after the test. */
  make(...args: Parameters<typeof createFetch>): BreakwaterFetch
  /** Closes every instance `make` gave so far, for a test that must close them before it ends. */
  closeFetches(): Promise<void>
}

/**
 * One upstream for every test of the calling file or describe block, through hooks it registers
 * there. After each test, the instances `make` gave are closed and the upstream is back to
 * `handler` with no requests seen: a test that changes it leaves nothing behind for the next.
 */
export function useUpstream(handler: Handler = defaultHandler): UpstreamSuite {
  let started: Upstream | undefined
  const current = (): Upstream => {
    if (started === undefined) throw new Error('the upstream starts in beforeAll: use it in tests')
    return started
  }
  // Handed out before the server exists, so that tests can keep writing `up.url`.
  const up: Upstream = {
    get url() {
      return current().url
    },
    get requests() {
      return current().requests
    },
    handle: (next) => current().handle(next),
    close: () => current().close(),
  }
  const open: BreakwaterFetch[] = []
  const closeFetches = async () => {
    await Promise.all(open.splice(0).map((f) => f.close()))
  }

  beforeAll(async () => {
    started = await startUpstream(handler)
  })
  afterEach(async () => {
    await closeFetches()
    up.handle(handler)
    up.requests.length = 0
  })
  afterAll(() => started?.close())

  return {
    up,
    make(...args) {
      const f = createFetch(...args)
      open.push(f)
      return f
    },
    closeFetches,
  }
}
