import { type AddressInfo, createServer, type Socket } from 'node:net'
import { describe, expect, it } from 'vitest'
import { leaseLength } from '../../src/coalesce/redis-lease.js'
import type { BreakwaterFetch, CreateFetchOptions } from '../../src/fetch.js'
import { testNamespace } from '../helpers/redis.js'
import { slack, timeout, upstreamMs, useRedisFaults } from '../helpers/redis-faults.js'
import { delay, reply } from '../helpers/upstream.js'

/** What the issue allows a call to wait on a lease under Redis faults. */
const bound = timeout + upstreamMs + 1_000 + slack
/** ms between two renewals of a lease, on this suite's `redis.timeout`. */
const renewEvery = leaseLength(timeout) / 3
const noStore = { 'cache-control': 'no-store' }

describe('cross-process leases through a Redis that fails', () => {
  const faults = useRedisFaults(
    (_req, res, seenReq) => reply(res, 200, `answer to ${seenReq.url}`),
    ['--enable-debug-command', 'local'],
  )
  const { upstream, seen } = faults

  const open = (namespace: string, options: CreateFetchOptions = {}, url = faults.server.url) =>
    faults.make({
      redis: { url, timeout },
      namespace,
      retry: false,
      onEvent: (e) => seen.push(e),
      ...options,
    })
  /** One GET, timed. */
  const get = async (fetch: BreakwaterFetch, path: string) => {
    const started = performance.now()
    const res = await fetch(`${upstream.url}${path}`)
    const text = await res.text()
    return { status: res.status, text, ms: performance.now() - started }
  }
  /** Both instances connected, with Redis marked up, before a fault starts. */
  const warm = async (...fetches: BreakwaterFetch[]) => {
    for (const fetch of fetches) await get(fetch, '/warm')
  }
  const leaseKeys = async (namespace: string) => {
    const listed = await faults.server.cli('KEYS', `${namespace}:lease:*`)
    return listed === '' ? [] : listed.split('\n')
  }
  /**
   * No lease left under `namespace`, once the releases in flight are done: a taker's callers are
   * answered as soon as the entry is stored, and its release goes on behind them.
   */
  const noLeaseLeft = async (namespace: string) => {
    for (let i = 0; i < 100 && (await leaseKeys(namespace)).length > 0; i++) await delay(20)
    expect(await leaseKeys(namespace)).toEqual([])
  }
  /** Scripts Redis ran so far (renewals and releases are scripts); this suite's server only. */
  const scriptsRun = async () => {
    const stats = await faults.server.cli('INFO', 'commandstats')
    let calls = 0
    for (const [, n] of stats.matchAll(/^cmdstat_eval(?:sha)?:calls=(\d+)/gm)) calls += Number(n)
    return calls
  }
  const until = async (done: () => boolean) => {
    for (let i = 0; i < 500 && !done(); i++) await delay(5)
    expect(done()).toBe(true)
  }
  const hitsOf = (path: string) => upstream.requests.filter((r) => r.url === path).length

  it('deletes a lease whose SET landed after it timed out, once Redis answers again', async () => {
    await faults.server.start()
    const namespace = testNamespace('lease-orphan')
    const [a, b] = [open(namespace), open(namespace)]
    await warm(a, b)
    // Reads go on (the cache lookup misses), writes wait: the lease's SET times out on the client.
    await faults.server.cli('CLIENT', 'PAUSE', '600', 'WRITE')
    expect(await get(a, '/orphan')).toMatchObject({ status: 200, text: 'answer to /orphan' })
    expect(a.stats().redisFallbacks).toBeGreaterThanOrEqual(1)
    // A write of ours waits out the pause: by then Redis has applied the SET nobody holds.
    await faults.server.cli('SET', `${namespace}:probe`, '1')
    expect(await leaseKeys(namespace)).toHaveLength(1)

    const waited = await get(b, '/orphan')
    console.info(`call behind an orphan lease: ${waited.ms.toFixed(0)} ms`)
    expect(waited).toMatchObject({ status: 200, text: 'answer to /orphan' })
    expect(waited.ms).toBeLessThan(bound)
    expect(seen.map((e) => e.type)).toContain('leaseTakeover')
    await noLeaseLeft(namespace)
  })

  it('deletes a lease whose release a sleeping Redis missed, once Redis answers again', async () => {
    await faults.server.start()
    const namespace = testNamespace('lease-unreleased')
    const [a, b] = [open(namespace), open(namespace)]
    await warm(a, b)
    let answerFirst = () => {}
    const first = new Promise<void>((resolve) => {
      answerFirst = resolve
    })
    upstream.handle(async (_req, res, seenReq) => {
      // Nothing to store: the holder's last word to Redis is its release.
      if (seenReq.url === '/slept' && hitsOf('/slept') === 1) {
        await first.then(() => reply(res, 200, '', noStore))
      } else reply(res, 200, `answer to ${seenReq.url}`)
    })
    const holding = get(a, '/slept')
    await until(() => hitsOf('/slept') === 1)
    const sleeping = faults.server.cli('DEBUG', 'SLEEP', '1')
    // Another call of the holder's process meets the sleep: Redis is marked down there.
    for (let i = 0; i < 20 && a.stats().redisErrors === 0; i++) await get(a, `/other-${i}`)
    expect(a.stats().redisErrors).toBeGreaterThan(0)
    // So the release is not even sent, and the lease stays, renewed by nobody.
    answerFirst()
    expect(await holding).toMatchObject({ status: 200, text: '' })
    await sleeping
    // The holder's lease; perhaps also the other call's, if its SET went out just before.
    expect((await leaseKeys(namespace)).length).toBeGreaterThanOrEqual(1)

    const waited = await get(b, '/slept')
    console.info(`call behind an unreleased lease: ${waited.ms.toFixed(0)} ms`)
    expect(waited).toMatchObject({ status: 200, text: 'answer to /slept' })
    expect(waited.ms).toBeLessThan(bound)
    expect(seen.map((e) => e.type)).toContain('leaseTakeover')
    await noLeaseLeft(namespace)
  })

  it('ends the lease and its renewals when a storable hook throws', async () => {
    await faults.server.start()
    const namespace = testNamespace('lease-hook')
    const storable = () => {
      throw new Error('storable hook failed')
    }
    const a = open(namespace, { cache: { storable } })
    await expect(a(`${upstream.url}/hook`)).rejects.toThrow('storable hook failed')
    // The holder left the "done" mark, not its token: the waiters go upstream themselves.
    const [lease] = await leaseKeys(namespace)
    expect(lease).toBeDefined()
    expect(await faults.server.cli('GET', String(lease))).toBe('done')
    const scripts = await scriptsRun()
    await delay(renewEvery * 1.5)
    expect(await scriptsRun()).toBe(scripts)
    expect(await leaseKeys(namespace)).toEqual([])

    const other = await get(open(namespace), '/hook')
    expect(other).toMatchObject({ status: 200, text: 'answer to /hook' })
    expect(other.ms).toBeLessThan(bound)
  })

  it('releases the leases still held when the instance closes', async () => {
    await faults.server.start()
    const namespace = testNamespace('lease-close')
    const [a, b] = [open(namespace), open(namespace)]
    await warm(a, b)
    let answerFirst = () => {}
    const first = new Promise<void>((resolve) => {
      answerFirst = resolve
    })
    upstream.handle(async (_req, res, seenReq) => {
      if (seenReq.url === '/closing' && hitsOf('/closing') === 1) await first
      reply(res, 200, `answer to ${seenReq.url}`)
    })
    const holding = get(a, '/closing').catch((error: unknown) => error)
    await until(() => hitsOf('/closing') === 1)
    const waiting = get(b, '/closing')
    await delay(100)
    const closedAt = performance.now()
    // The holder's call is still upstream; closing waits for it, but not to free the lease.
    const closing = a.close()
    const waited = await waiting
    expect(waited).toMatchObject({ status: 200, text: 'answer to /closing' })
    expect(performance.now() - closedAt).toBeLessThan(bound)
    expect(seen.map((e) => e.type)).toContain('leaseTakeover')
    answerFirst()
    await Promise.all([closing, holding])
    expect(await leaseKeys(namespace)).toEqual([])
  })

  it('answers within the timeout plus the upstream on a Redis that never answers', async () => {
    const sockets = new Set<Socket>()
    const silent = createServer((socket) => {
      sockets.add(socket)
      socket.on('close', () => sockets.delete(socket))
    })
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
    const { port } = silent.address() as AddressInfo
    try {
      const a = open(testNamespace('lease-silent'), {}, `redis://127.0.0.1:${port}`)
      for (const path of ['/silent', '/silent', '/silent-2']) {
        const result = await get(a, path)
        expect(result.status).toBe(200)
        expect(result.ms).toBeLessThan(upstreamMs + timeout + slack)
      }
      const started = performance.now()
      await a.close()
      expect(performance.now() - started).toBeLessThan(1_500)
    } finally {
      for (const socket of sockets) socket.destroy()
      await new Promise((resolve) => silent.close(resolve))
    }
  })
})
