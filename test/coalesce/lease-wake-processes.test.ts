import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { ChildScript } from '../helpers/child-process.js'
import { rawClient, testNamespace } from '../helpers/redis.js'
import { RedisServer } from '../helpers/redis-server.js'
import { delay, reply, startUpstream, type Upstream } from '../helpers/upstream.js'

const script = fileURLToPath(new URL('../helpers/fixtures/child-lease.ts', import.meta.url))
/** A generous bound for "not stuck", far below the minute between two `far` polls. */
const notStuck = 15_000

interface ChildResult {
  readonly body: string
  readonly events: string[]
}

async function until(what: string, check: () => Promise<boolean>): Promise<void> {
  const started = performance.now()
  while (!(await check())) {
    if (performance.now() - started > notStuck) throw new Error(`stuck waiting for ${what}`)
    await delay(10)
  }
}

/**
 * The wake path of the lease between processes: each child is one process with the lease stage
 * on a private Redis (so that Redis' own counts are the test's alone), its entries in a hash.
 */
describe('waking the waiters of a lease in other processes', () => {
  let server: RedisServer
  let redis: Awaited<ReturnType<typeof rawClient>>
  let upstream: Upstream
  const children: ChildScript<ChildResult>[] = []

  const start = async (namespace: string, key: string, polls: 'default' | 'far') => {
    const args = [server.url, namespace, key, `${upstream.url}/${key}`, polls]
    const child = new ChildScript<ChildResult>(script, args)
    children.push(child)
    await child.ready
    return child
  }
  const subscribers = async (namespace: string) => {
    const reply = await redis.sendCommand(['PUBSUB', 'NUMSUB', `${namespace}:lease:done`])
    return Number((reply as unknown as unknown[])[1])
  }
  const setCalls = async () => {
    const stats = await redis.sendCommand(['INFO', 'commandstats'])
    return Number(/cmdstat_set:calls=(\d+)/.exec(String(stats))?.[1] ?? 0)
  }
  /** Waits until Redis has counted `n` more `SET`s (lease attempts) than `from`. */
  const setsSent = async (from: number, n: number) =>
    until(`${n} lease SETs`, async () => (await setCalls()) >= from + n)
  const hitsOf = (key: string) => upstream.requests.filter((r) => r.url === `/${key}`).length

  beforeAll(async () => {
    server = await RedisServer.create()
    redis = await rawClient(server.url)
    upstream = await startUpstream()
  })
  afterEach(async () => {
    await Promise.all(children.splice(0).map((child) => child.kill()))
  })
  afterAll(async () => {
    await upstream.close()
    redis.destroy()
    await server.stop()
  })

  it('wakes a waiter in another process by the holder notification, with no poll due', async () => {
    let open = () => {}
    const gate = new Promise<void>((resolve) => {
      open = resolve
    })
    upstream.handle(async (_req, res) => {
      await gate
      reply(res, 200, 'the one answer')
    })
    const namespace = testNamespace('wake-processes')
    const holder = await start(namespace, 'woken', 'far')
    const waiters = [await start(namespace, 'woken', 'far'), await start(namespace, 'woken', 'far')]
    await until('three subscribers', async () => (await subscribers(namespace)) === 3)
    const sets = await setCalls()
    holder.go()
    await until('the holder upstream', async () => hitsOf('woken') === 1)
    for (const waiter of waiters) waiter.go()
    // Both waiters found the lease held: from now on only a message or a poll can answer them,
    // and no poll is due for a minute.
    await setsSent(sets, 3)
    open()
    const results = await Promise.all([holder, ...waiters].map((child) => child.result))
    expect(results.map((r) => r.body)).toEqual(Array(3).fill('the one answer'))
    expect(results.map((r) => r.events)).toEqual([[], ['leaseJoined'], ['leaseJoined']])
    expect(hitsOf('woken')).toBe(1)
  })

  it('falls back to the poll when the notification is missed', async () => {
    upstream.handle((_req, res) => reply(res, 200, 'never asked'))
    const namespace = testNamespace('missed')
    const waiter = await start(namespace, 'missed', 'default')
    await until('the subscriber', async () => (await subscribers(namespace)) === 1)
    // A holder that stores and releases without a word: as if its PUBLISH had been refused.
    const lease = `${namespace}:lease:missed`
    await redis.set(lease, 'a-silent-holder', { PX: 30_000 })
    const sets = await setCalls()
    waiter.go()
    await setsSent(sets, 1)
    await redis.hSet(`${namespace}:entries`, 'missed', 'stored without a word')
    await redis.del(lease)
    const result = await waiter.result
    expect(result).toEqual({ body: 'stored without a word', events: ['leaseJoined'] })
    expect(hitsOf('missed')).toBe(0)
  })

  it('takes over a lost lease as soon as it runs out, with no poll due', async () => {
    upstream.handle(async (req, res) => {
      // The first call hangs until its process dies; the next is answered at once.
      if (hitsOf('lost') === 1) return void (await once(req.socket, 'close'))
      reply(res, 200, 'after the takeover')
    })
    const namespace = testNamespace('lost')
    const holder = await start(namespace, 'lost', 'far')
    const waiter = await start(namespace, 'lost', 'far')
    await until('both subscribers', async () => (await subscribers(namespace)) === 2)
    const sets = await setCalls()
    holder.go()
    await until('the holder upstream', async () => hitsOf('lost') === 1)
    waiter.go()
    await setsSent(sets, 2)
    // Killed: its lease is neither released nor renewed, and no message will ever come.
    await holder.kill()
    const result = await waiter.result
    expect(result).toEqual({ body: 'after the takeover', events: ['leaseTakeover'] })
    expect(hitsOf('lost')).toBe(2)
    // Released behind the answer, by the waiter that took it over.
    await until(
      'the lease released',
      async () => (await redis.keys(`${namespace}:lease:*`)).length === 0,
    )
  })
})
