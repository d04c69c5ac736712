import { fileURLToPath } from 'node:url'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { ChildScript } from '../helpers/child-process.js'
import { rawClient, redisUrl, testNamespace } from '../helpers/redis.js'
import { delay, reply, startUpstream, type Upstream } from '../helpers/upstream.js'

const script = fileURLToPath(new URL('../helpers/fixtures/child-post.ts', import.meta.url))

interface PostResult {
  readonly status?: number
  readonly body?: string
  readonly replayed?: string | null
  readonly error?: string
  readonly stats: { readonly upstreamCalls: number; readonly idempotentReplays: number }
  readonly events: string[]
}

describe('idempotency records across processes', () => {
  let upstream: Upstream
  const children: ChildScript<PostResult>[] = []
  const start = (namespace: string, path: string, key: string, body: string, ...rest: string[]) => {
    const args = [redisUrl(), namespace, `${upstream.url}${path}`, key, body, ...rest]
    const child = new ChildScript<PostResult>(script, args)
    children.push(child)
    return child
  }
  /** Starts `children` together, once each is ready, and collects what they got. */
  const together = async (group: ChildScript<PostResult>[]) => {
    await Promise.all(group.map((child) => child.ready))
    for (const child of group) child.go()
    return Promise.all(group.map((child) => child.result))
  }
  const postsTo = (path: string) =>
    upstream.requests.filter((r) => r.method === 'POST' && r.url === path)

  beforeAll(async () => {
    upstream = await startUpstream(async (_req, res, seen, index) => {
      // The first send of a /held key is never answered: its process is killed meanwhile.
      if (seen.url.startsWith('/held') && postsTo(seen.url).length === 1) return
      await delay(300)
      reply(res, 201, `order #${index} for ${seen.body}`, { 'content-type': 'text/plain' })
    })
  })
  afterEach(async () => {
    await Promise.all(children.splice(0).map((child) => child.kill()))
  })
  afterAll(() => upstream.close())

  it('replays a keyed POST recorded by one process to another, with one upstream POST', async () => {
    const namespace = testNamespace('records-replay')
    const [first] = await together([start(namespace, '/orders', 'order-42', 'two apples')])
    const [second] = await together([start(namespace, '/orders', 'order-42', 'two apples')])
    expect(first).toMatchObject({ status: 201, replayed: null })
    expect(second).toMatchObject({ status: 201, body: first?.body, replayed: 'true' })
    expect(second?.stats).toMatchObject({ upstreamCalls: 0, idempotentReplays: 1 })
    expect(postsTo('/orders')).toHaveLength(1)
    expect(postsTo('/orders')[0]?.headers['idempotency-key']).toBe('order-42')
  })

  it('lets 4 processes sending one key at once cause one POST, the others replaying it', async () => {
    const namespace = testNamespace('records-herd')
    const four = [0, 1, 2, 3].map(() => start(namespace, '/herd', 'order-7', 'a pear'))
    const results = await together(four)
    expect(postsTo('/herd')).toHaveLength(1)
    expect(new Set(results.map((r) => `${r.status} ${r.body}`)).size).toBe(1)
    expect(results.map((r) => r.replayed).sort()).toEqual([null, 'true', 'true', 'true'])
    expect(results.reduce((n, r) => n + r.stats.upstreamCalls, 0)).toBe(1)
  })

  it('refuses a key reused by another process for another body, in flight and done', async () => {
    const namespace = testNamespace('records-conflict')
    const holder = start(namespace, '/conflict', 'order-9', 'one melon')
    const rival = start(namespace, '/conflict', 'order-9', 'ten melons')
    await Promise.all([holder.ready, rival.ready])
    holder.go()
    while (postsTo('/conflict').length === 0) await delay(5)
    rival.go()
    expect(await rival.result).toMatchObject({ error: 'IDEMPOTENCY_CONFLICT' })
    const held = await holder.result
    expect(held).toMatchObject({ status: 201, replayed: null })
    expect(held.body).toMatch(/for one melon$/)
    const [late] = await together([start(namespace, '/conflict', 'order-9', 'ten melons')])
    expect(late).toMatchObject({ error: 'IDEMPOTENCY_CONFLICT' })
    expect(postsTo('/conflict')).toHaveLength(1)
  })

  it('knows a call whose process was SIGKILLed on the wire: resent with its key, or refused', async () => {
    for (const [path, rule] of [
      ['/held-resend', 'resend'],
      ['/held-fail', 'fail'],
    ] as const) {
      const namespace = testNamespace(`records-${rule}`)
      const holder = start(namespace, path, 'order-3', 'a fig', '300')
      await holder.ready
      holder.go()
      while (postsTo(path).length === 0) await delay(5)
      await holder.kill()
      // Past the dead holder's lease, on Redis' clock.
      await delay(600)
      const [next] = await together([start(namespace, path, 'order-3', 'a fig', '300', rule)])
      expect(next?.events).toContain('unknownOutcome')
      if (rule === 'resend') {
        expect(next).toMatchObject({ status: 201, replayed: null })
        expect(next?.stats).toMatchObject({ upstreamCalls: 1 })
        expect(postsTo(path).map((r) => r.headers['idempotency-key'])).toEqual([
          'order-3',
          'order-3',
        ])
      } else {
        expect(next).toMatchObject({ error: 'IDEMPOTENCY_UNKNOWN_OUTCOME' })
        expect(next?.stats).toMatchObject({ upstreamCalls: 0 })
        expect(postsTo(path)).toHaveLength(1)
      }
    }
  }, 60_000)

  it('frees the record of a call whose process was SIGKILLed while it waited for its bucket: sent once, by the next', async () => {
    const namespace = testNamespace('records-bucket')
    // One token a minute, shared on Redis: another key takes it, so the holder waits its turn.
    const [spent] = await together([
      start(namespace, '/spend', 'spend-1', 'a kiwi', '300', '-', '1'),
    ])
    expect(spent).toMatchObject({ status: 201 })
    const holder = start(namespace, '/queued', 'order-5', 'a plum', '300', '-', '1')
    await holder.ready
    holder.go()
    const raw = await rawClient()
    try {
      // Its record claimed, and held on through renewals past a few of its 300 ms leases.
      while ((await raw.keys(`${namespace}:idem:*`)).length < 2) await delay(5)
      await delay(1_000)
    } finally {
      raw.destroy()
    }
    await holder.kill()
    expect(postsTo('/queued')).toHaveLength(0)
    // Past the dead holder's lease, on Redis' clock.
    await delay(600)
    const [next] = await together([start(namespace, '/queued', 'order-5', 'a plum', '300', 'fail')])
    expect(next).toMatchObject({ status: 201, replayed: null })
    expect(next?.events).not.toContain('unknownOutcome')
    expect(postsTo('/queued').map((r) => r.headers['idempotency-key'])).toEqual(['order-5'])
  }, 60_000)
})
