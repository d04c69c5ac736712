import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { leaseLength } from '../../src/coalesce/redis-lease.js'
import { redisDefaults } from '../../src/redis/options.js'
import { ChildScript } from '../helpers/child-process.js'
import { redisUrl, testNamespace } from '../helpers/redis.js'
import { delay, reply, startUpstream, type Upstream } from '../helpers/upstream.js'

const script = fileURLToPath(new URL('../helpers/fixtures/child-fetch.ts', import.meta.url))

interface ChildResult {
  readonly status: number
  readonly body: string
  readonly stats: { readonly upstreamCalls: number; readonly coalesced: number }
  readonly events: string[]
}

describe('coalescing across processes', () => {
  let upstream: Upstream
  const children: ChildScript<ChildResult>[] = []
  const start = (namespace: string, path: string, timeout: number) => {
    const args = [redisUrl(), namespace, `${upstream.url}${path}`, String(timeout)]
    const child = new ChildScript<ChildResult>(script, args)
    children.push(child)
    return child
  }
  const hitsOf = (path: string) => upstream.requests.filter((r) => r.url === path)

  beforeAll(async () => {
    upstream = await startUpstream()
  })
  afterEach(async () => {
    await Promise.all(children.splice(0).map((child) => child.kill()))
  })
  afterAll(() => upstream.close())

  it('makes one upstream call for 4 processes asking one cold key at once', async () => {
    upstream.handle(async (_req, res) => {
      await delay(500)
      reply(res, 200, 'the one answer')
    })
    const namespace = testNamespace('processes')
    const four = [0, 1, 2, 3].map(() => start(namespace, '/cold', 5_000))
    await Promise.all(four.map((child) => child.ready))
    for (const child of four) child.go()
    const results = await Promise.all(four.map((child) => child.result))
    expect(results.map((r) => [r.status, r.body])).toEqual(Array(4).fill([200, 'the one answer']))
    expect(hitsOf('/cold')).toHaveLength(1)
    expect(results.reduce((n, r) => n + r.stats.upstreamCalls, 0)).toBe(1)
    expect(results.filter((r) => r.events.includes('leaseJoined'))).toHaveLength(3)
  })

  it('lets a waiter take over within the lease time when the holder is killed', async () => {
    const timeout = 800
    const leaseMs = leaseLength(redisDefaults.timeout)
    let answeredAt = 0
    upstream.handle(async (req, res) => {
      // The first call hangs until its process dies; the next is answered at once.
      if (hitsOf('/killed').length === 1) return void (await once(req.socket, 'close'))
      answeredAt = performance.now()
      reply(res, 200, 'after the takeover')
    })
    const namespace = testNamespace('killed')
    const [holder, waiter] = [
      start(namespace, '/killed', timeout),
      start(namespace, '/killed', timeout),
    ]
    await Promise.all([holder.ready, waiter.ready])
    holder.go()
    while (hitsOf('/killed').length === 0) await delay(5)
    waiter.go()
    // Killed well within its own attempt timeout: the lease alone can tell the waiter.
    await delay(100)
    await holder.kill()
    const killedAt = performance.now()
    const result = await waiter.result
    expect(result).toMatchObject({ status: 200, body: 'after the takeover' })
    expect(result.events).toContain('leaseTakeover')
    expect(hitsOf('/killed')).toHaveLength(2)
    // The holder renewed its lease every leaseMs / 3 while it lived; the lease then ran out
    // within leaseMs of its death, and the waiter saw that within one poll (200 ms).
    const tookOver = answeredAt - killedAt
    console.info(`lease ${leaseMs} ms: taken over ${tookOver.toFixed(0)} ms after the kill`)
    expect(tookOver).toBeGreaterThan(leaseMs / 3)
    expect(tookOver).toBeLessThan(leaseMs + 400)
  })
})
