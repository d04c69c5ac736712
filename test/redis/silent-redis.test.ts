import { type AddressInfo, createServer, type Server, type Socket } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createFetch } from '../../src/fetch.js'
import { testNamespace } from '../helpers/redis.js'
import { reply, startUpstream, type Upstream } from '../helpers/upstream.js'

/**
 * A "Redis" that accepts TCP and never writes a byte: the client's connect succeeds and its
 * handshake waits for replies that never come.
 */
async function silentServer() {
  const sockets = new Set<Socket>()
  let accepted = 0
  const server: Server = createServer((socket) => {
    accepted++
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => {})
    // Read and drop what the client writes: a socket never read from never sees its end.
    socket.resume()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `redis://127.0.0.1:${port}`,
    /** Sockets the client opened that are not closed yet. */
    open: () => sockets.size,
    accepted: () => accepted,
    close: async () => {
      for (const socket of sockets) socket.destroy()
      await new Promise((resolve) => server.close(resolve))
    },
  }
}

describe('an instance on a Redis that accepts and never answers', () => {
  let upstream: Upstream
  let silent: Awaited<ReturnType<typeof silentServer>>
  beforeAll(async () => {
    upstream = await startUpstream((_req, res, seen, index) =>
      reply(res, 201, `#${index} ${seen.url}`),
    )
    silent = await silentServer()
  })
  afterAll(async () => {
    await silent.close()
    await upstream.close()
  })

  it('serves calls by falling back, and closes promptly with its socket closed', async () => {
    const fetch = createFetch({
      redis: { url: silent.url, timeout: 100 },
      namespace: testNamespace('silent'),
      retry: false,
    })
    const statuses: number[] = []
    // Each key twice: the repeat is answered by the record made in process.
    for (const key of ['s-1', 's-2', 's-3', 's-1', 's-2', 's-3']) {
      const res = await fetch(`${upstream.url}/orders/${key}`, {
        method: 'POST',
        body: key,
        breakwater: { idempotencyKey: key },
      })
      await res.text()
      statuses.push(res.status)
    }
    expect(statuses).toEqual([201, 201, 201, 201, 201, 201])
    expect(upstream.requests.map((r) => r.body)).toEqual(['s-1', 's-2', 's-3'])
    expect(fetch.stats().redisFallbacks).toBeGreaterThanOrEqual(3)
    expect(silent.accepted()).toBeGreaterThanOrEqual(1)

    const started = performance.now()
    await fetch.close()
    // Bounded by the connect timeout at worst (1 s); the point is that it ends at all.
    expect(performance.now() - started).toBeLessThan(1_500)
    for (let i = 0; i < 100 && silent.open() > 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
    expect(silent.open()).toBe(0)
  })

  it('closes promptly while its first handshake is still waiting', async () => {
    const fetch = createFetch({
      redis: { url: silent.url, timeout: 60_000 },
      namespace: testNamespace('silent-close'),
    })
    const accepted = silent.accepted()
    for (let i = 0; i < 100 && silent.accepted() === accepted; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
    const started = performance.now()
    await fetch.close()
    expect(performance.now() - started).toBeLessThan(1_000)
    for (let i = 0; i < 100 && silent.open() > 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
    expect(silent.open()).toBe(0)
  })
})
