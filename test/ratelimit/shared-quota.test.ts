import { fileURLToPath } from 'node:url'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { BreakwaterEvent } from '../../src/core/events.js'
import type { Stats } from '../../src/core/stats.js'
import { createFetch } from '../../src/fetch.js'
import { ChildScript } from '../helpers/child-process.js'
import { type QuotaServer, startQuotaServer } from '../helpers/quota-server.js'
import { redisUrl, testNamespace } from '../helpers/redis.js'
import { startUpstream, type Upstream } from '../helpers/upstream.js'

const script = fileURLToPath(new URL('../helpers/fixtures/child-quota.ts', import.meta.url))

interface ChildResult {
  readonly statuses: Record<string, number>
  readonly stats: Stats
}

describe('one rate limit shared by many processes on Redis', () => {
  let server: QuotaServer
  const children: ChildScript<ChildResult>[] = []
  // The server's quota, and breakwater's bucket beneath it. Its smaller burst leaves the server
  // 15 tokens (150 ms) of room for the jitter between a start granted on Redis and the request's
  // arrival: four busy processes on a small machine start some calls late, which then land
  // together with the next ones.
  const perSecond = 100
  const burst = 20
  const capacity = 5

  beforeAll(async () => {
    server = await startQuotaServer({ perSecond, burst })
  })
  afterEach(async () => {
    await Promise.all(children.splice(0).map((child) => child.kill()))
  })
  afterAll(() => server.close())

  it('keeps 4 processes × 50 callers within the quota of a strict server and uses ≥ 90 % of it', async () => {
    const namespace = testNamespace('quota')
    const args = [redisUrl(), namespace, `${server.url}/q`, perSecond, capacity, 50, 1_000]
    for (let i = 0; i < 4; i++) children.push(new ChildScript(script, args.map(String)))
    await Promise.all(children.map((child) => child.ready))
    server.reset()
    for (const child of children) child.go()
    const results = await Promise.all(children.map((child) => child.result))
    const quota = burst + (perSecond * server.span) / 1_000
    const used = server.admitted / quota
    console.info(
      `4 processes × 50 callers, ${perSecond}/s: ${server.admitted} admitted, ${server.rejected} × 429 in ${server.span.toFixed(0)} ms, ${(used * 100).toFixed(1)} % of the quota`,
    )
    expect(server.rejected).toBe(0)
    expect(used).toBeGreaterThanOrEqual(0.9)
    // Every process took part, and none fell back to its local share.
    for (const { statuses, stats } of results) {
      expect(statuses['200']).toBeGreaterThan(0)
      expect(stats.redisFallbacks).toBe(0)
    }
  })
})

describe('a shared bucket on Redis time', () => {
  let upstream: Upstream
  beforeAll(async () => {
    upstream = await startUpstream()
  })
  afterAll(() => upstream.close())

  it('gives instances on clocks two hours apart one budget and one queue', async () => {
    const namespace = testNamespace('skew')
    const seen: BreakwaterEvent[] = []
    const skewed = (offset: number) =>
      createFetch({
        redis: redisUrl(),
        namespace,
        cache: false,
        retry: false,
        clock: { now: () => Date.now() + offset },
        rateLimit: { name: 'rps', perSecond: 2, capacity: 2 },
        onEvent: (e) => seen.push(e),
      })
    const [ahead, behind] = [skewed(3_600_000), skewed(-3_600_000)]
    try {
      for (const fetch of [ahead, ahead])
        expect((await fetch(`${upstream.url}/s`)).status).toBe(200)
      // The bucket is empty for both: behind waits for the next token (at most 500 ms), where
      // client clocks would have it wait two hours, or let ahead through a full bucket.
      expect((await behind(`${upstream.url}/s`)).status).toBe(200)
      const throttled = seen.flatMap((e) => (e.type === 'throttled' ? [e.wait] : []))
      expect(throttled).toHaveLength(1)
      expect(throttled[0]).toBeGreaterThan(100)
      expect(throttled[0]).toBeLessThanOrEqual(501)
    } finally {
      await Promise.all([ahead.close(), behind.close()])
    }
  })
})
