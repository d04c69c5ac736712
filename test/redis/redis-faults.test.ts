import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import type { BreakwaterEvent } from '../../src/core/events.js'
import { type BreakwaterFetch, createFetch } from '../../src/fetch.js'
import { testNamespace } from '../helpers/redis.js'
import { RedisServer } from '../helpers/redis-server.js'
import { delay, reply, startUpstream, type Upstream } from '../helpers/upstream.js'

/** The upstream's own latency, ms; every call below pays it once. */
const upstreamMs = 50
/** `redis.timeout`, ms. */
const timeout = 100
/**
 * How long a call that waited on a failing Redis would take at least: every bound below is far
 * under it and far over what a call takes on a busy machine (upstream + timeout), so that what
 * the timings tell apart is "bounded by the timeout" from "waiting on Redis", never scheduling.
 */
const hang = 5_000
const bounded = hang / 2

describe('calls through a Redis that fails', () => {
  let upstream: Upstream
  let server: RedisServer
  let fetch: BreakwaterFetch | undefined
  const seen: BreakwaterEvent[] = []
  const rejections: unknown[] = []
  const onRejection = (reason: unknown) => rejections.push(reason)

  beforeAll(async () => {
    upstream = await startUpstream(async (_req, res, seenReq) => {
      await delay(upstreamMs)
      reply(res, 200, `answer to ${seenReq.url}`)
    })
    server = await RedisServer.create(false)
    // What a process pays once, at its first call (importing undici), is not what these
    // timings are about.
    await import('undici')
    process.on('unhandledRejection', onRejection)
  })
  beforeEach(() => {
    seen.length = 0
  })
  afterEach(async () => {
    await fetch?.close()
    expect(rejections).toEqual([])
  })
  afterAll(async () => {
    process.off('unhandledRejection', onRejection)
    await server.stop()
    await upstream.close()
  })

  const open = () => {
    fetch = createFetch({
      redis: { url: server.url, timeout },
      namespace: testNamespace('faults'),
      retry: false,
      onEvent: (e) => seen.push(e),
    })
    return fetch
  }

  /** Runs one call and measures it; the body must be the upstream's. */
  const timed = async (path: string) => {
    const started = performance.now()
    const res = await (fetch ?? open())(`${upstream.url}${path}`)
    const body = await res.text()
    const ms = performance.now() - started
    expect(body).toBe(`answer to ${path}`)
    return ms
  }
  const types = () => new Set(seen.map((e) => e.type))

  it('answers uncached within the upstream latency when Redis was never there', async () => {
    const fetch = open()
    const times = [await timed('/never-1'), await timed('/never-2'), await timed('/never-3')]
    console.info(`Redis stopped before start: ${times.map((t) => t.toFixed(0)).join(', ')} ms`)
    for (const ms of times) expect(ms).toBeLessThan(bounded)
    expect(fetch.stats()).toMatchObject({ cacheHits: 0, upstreamCalls: 3 })
    expect(fetch.stats().cacheErrors).toBeGreaterThanOrEqual(3)
    expect(types()).toContain('cacheError')
    expect(types()).toContain('redisFallback')
  })

  it('fails open when Redis stops mid-run, and uses it again once it is back', async () => {
    await server.start()
    const fetch = open()
    await timed('/mid')
    await timed('/mid')
    expect(fetch.stats()).toMatchObject({ cacheHits: 1, upstreamCalls: 1 })

    await server.stop()
    const down = [await timed('/mid'), await timed('/mid-2')]
    console.info(`Redis stopped mid-run: ${down.map((t) => t.toFixed(0)).join(', ')} ms`)
    for (const ms of down) expect(ms).toBeLessThan(bounded)
    expect(types()).toContain('redisDown')

    await server.start()
    const started = performance.now()
    while (!types().has('redisUp') && performance.now() - started < 5_000) {
      await timed('/back')
      await delay(100)
    }
    expect(types()).toContain('redisUp')
    const upstreamCalls = fetch.stats().upstreamCalls
    await timed('/back-stored')
    await timed('/back-stored')
    expect(fetch.stats().upstreamCalls).toBe(upstreamCalls + 1)
  })

  it('answers within the timeout, not the pause, while Redis is paused', async () => {
    await server.start()
    const fetch = open()
    await timed('/warm')
    await server.cli('CLIENT', 'PAUSE', String(hang), 'ALL')
    const times: number[] = await Promise.all([
      timed('/paused-1'),
      timed('/paused-2'),
      timed('/paused-3'),
    ])
    // Marked down by then: the next call does not wait on Redis at all.
    expect(types()).toContain('redisDown')
    times.push(await timed('/paused-4'))
    console.info(`Redis paused: ${times.map((t) => t.toFixed(0)).join(', ')} ms`)
    for (const ms of times) expect(ms).toBeLessThan(bounded)
    expect(fetch.stats().redisErrors).toBeGreaterThanOrEqual(1)
    await server.cli('CLIENT', 'UNPAUSE')
  })
})
