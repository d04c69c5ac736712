import { fileURLToPath } from 'node:url'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { Stats } from '../../src/core/stats.js'
import { ChildScript } from '../helpers/child-process.js'
import { redisUrl, testNamespace } from '../helpers/redis.js'
import { reply, startUpstream, type Upstream } from '../helpers/upstream.js'

const script = fileURLToPath(new URL('../helpers/fixtures/child-pool.ts', import.meta.url))

interface ChildResult {
  readonly statuses: Record<string, number>
  readonly stats: Stats
}

/** A provider that holds each API key to its own quota: a token bucket per `x-api-key`. */
async function startKeyedQuota(perSecond: number, burst: number) {
  const keys = new Map<string, { tokens: number; last: number; admitted: number }>()
  let rejected = 0
  let first: number | undefined
  let latest = 0
  const upstream: Upstream = await startUpstream((req, res) => {
    const now = performance.now()
    first ??= now
    latest = now
    const key = String(req.headers['x-api-key'])
    const quota = keys.get(key) ?? { tokens: burst, last: now, admitted: 0 }
    keys.set(key, quota)
    quota.tokens = Math.min(burst, quota.tokens + ((now - quota.last) * perSecond) / 1_000)
    quota.last = now
    if (quota.tokens < 1) {
      rejected++
      return reply(res, 429, 'quota exceeded', { 'retry-after': '1' })
    }
    quota.tokens -= 1
    quota.admitted++
    reply(res, 200, 'ok')
  })
  return {
    url: upstream.url,
    admittedBy: () => Object.fromEntries([...keys].map(([k, q]) => [k, q.admitted])),
    get rejected() {
      return rejected
    },
    /** ms from the first request to the last. */
    get span() {
      return first === undefined ? 0 : latest - first
    },
    close: () => upstream.close(),
  }
}

describe('a pool of keys shared by many processes on Redis', () => {
  // The minute scaled down to 6 s: each key's 60 requests a minute are 10 a second. The mock
  // holds a burst of 10 per key (a sixth of its minute); breakwater's buckets 2, which leaves
  // 800 ms of room for the jitter between a start granted on Redis and the request's arrival:
  // four busy processes on a small machine start some calls late, which then land together.
  const minute = 6_000
  const perMinute = 60
  const perSecond = (perMinute * 1_000) / minute
  const offeredPerMinute = 170
  const processes = 4
  const minutes = 2
  const keys = ['sk-a', 'sk-b', 'sk-c']
  let server: Awaited<ReturnType<typeof startKeyedQuota>>
  const children: ChildScript<ChildResult>[] = []

  beforeAll(async () => {
    server = await startKeyedQuota(perSecond, 10)
  })
  afterEach(async () => {
    await Promise.all(children.splice(0).map((child) => child.kill()))
  })
  afterAll(() => server.close())

  it('serves 170 a minute over three keys of 60 a minute, with no 429', async () => {
    const namespace = testNamespace('pool-fleet')
    // Each process offers a quarter of the load, at a steady pace, for two minutes.
    const interval = (minute * processes) / offeredPerMinute
    const count = Math.round((offeredPerMinute * minutes) / processes)
    const args = [redisUrl(), namespace, `${server.url}/v1/x`, keys.join(','), perSecond, 2]
    for (let i = 0; i < processes; i++) {
      children.push(new ChildScript(script, [...args, interval, count].map(String)))
    }
    await Promise.all(children.map((child) => child.ready))
    for (const child of children) child.go()
    const results = await Promise.all(children.map((child) => child.result))
    const admitted = server.admittedBy()
    const served = Object.values(admitted).reduce((sum, n) => sum + n, 0)
    const rate = (served / server.span) * minute
    console.info(
      `${processes} processes offering ${offeredPerMinute}/min over ${keys.length} keys of ${perMinute}/min: ${served} served (${JSON.stringify(admitted)}), ${server.rejected} × 429, ${rate.toFixed(0)}/min over ${server.span.toFixed(0)} ms`,
    )
    expect(server.rejected).toBe(0)
    expect(served).toBe(count * processes)
    for (const { statuses, stats } of results) {
      expect(statuses).toEqual({ 200: count })
      expect(stats.redisFallbacks).toBe(0)
      expect(stats.failovers).toBe(0)
    }
    // Every key carried its share: a third of the calls each, give or take.
    for (const key of keys) expect(admitted[key]).toBeGreaterThan(served / 4)
    // Served about as fast as it was offered, far more than two keys could serve (120 a
    // minute): a pool that fell behind would stretch the span.
    expect(rate).toBeGreaterThanOrEqual(offeredPerMinute * 0.85)
    // Two scaled minutes of load, after four processes have started on two cores.
  }, 60_000)
})
