import '../helpers/no-open-handles.js'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { CacheEntries } from '../../src/cache/entries.js'
import { livePolls, type Polls, quickPolls } from '../../src/coalesce/polls.js'
import { createLeaseStage, type LeaseTuning } from '../../src/coalesce/redis-lease.js'
import type { Call } from '../../src/core/call.js'
import type { Outcome } from '../../src/core/outcome.js'
import { createFetch } from '../../src/fetch.js'
import { RedisConnection } from '../../src/redis/connection.js'
import { resolveRedis } from '../../src/redis/options.js'
import { httpOutcome, makeCall, textOf } from '../helpers/call.js'
import { createManualTime } from '../helpers/manual-time.js'
import { rawClient, realContext, testNamespace } from '../helpers/redis.js'
import { RedisServer, useOneNodeCluster } from '../helpers/redis-server.js'
import { delay } from '../helpers/upstream.js'

/** Polls so far apart that a waiter who gets its entry within the test was woken. */
const far: Polls = { first: 60_000, last: 60_000 }
const never: LeaseTuning = { polls: far, livePolls: far }
/** Polls as quick with a subscriber as without. */
const quick: LeaseTuning = { polls: { first: 20, last: 200 }, livePolls: { first: 20, last: 200 } }
/** A generous bound for "not stuck", far below `never`. */
const notStuck = 10_000

type Raw = Awaited<ReturnType<typeof rawClient>>

/**
 * The cache the lease waits on, kept in a Redis hash so that, like the real one, it is shared
 * between processes, and so that the only `SET`s Redis counts are the leases'.
 */
function hashEntries(redis: Raw, hash: string): CacheEntries {
  return {
    async fresh(call) {
      const text = await redis.hGet(hash, call.key)
      return text === null ? undefined : httpOutcome(200, text)
    },
    async save(call, outcome) {
      await redis.hSet(hash, call.key, textOf(outcome))
      return true
    },
  }
}

/** An upstream call that answers once `open()` is called, counting the calls it was asked. */
function gatedUpstream(body: string) {
  let open = () => {}
  const gate = new Promise<void>((resolve) => {
    open = resolve
  })
  const upstream = {
    calls: 0,
    open,
    next: async (_call: Call): Promise<Outcome> => {
      upstream.calls++
      await gate
      return httpOutcome(200, body)
    },
  }
  return upstream
}

async function until(what: string, check: () => Promise<boolean>): Promise<void> {
  const started = performance.now()
  while (!(await check())) {
    if (performance.now() - started > notStuck) throw new Error(`stuck waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

describe('waking the waiters of a lease through Redis', () => {
  let server: RedisServer
  let redis: Raw
  const closing: (() => Promise<void>)[] = []

  beforeAll(async () => {
    server = await RedisServer.create()
    redis = await rawClient(server.url)
  })
  afterEach(async () => {
    for (const close of closing.splice(0).reverse()) await close()
    await server.cli('ACL', 'SETUSER', 'default', 'allchannels')
  })
  afterAll(async () => {
    redis.destroy()
    await server.stop()
  })

  /** One process's lease stage: a connection, a subscriber and the stage, closed after. */
  const processOn = (namespace: string, tuning: LeaseTuning = {}) => {
    const ctx = realContext()
    const resolved = resolveRedis({ url: server.url })
    if (!resolved) throw new Error('redis expected')
    const connection = new RedisConnection(resolved, namespace, ctx)
    const entries = hashEntries(redis, `${namespace}:entries`)
    const lease = createLeaseStage(ctx, connection, entries, tuning)
    closing.push(async () => {
      await lease.close()
      await connection.close()
    })
    return { ctx, lease, types: () => ctx.seen.map((e) => e.type) }
  }
  const subscribers = async (namespace: string) => {
    const reply = await redis.sendCommand(['PUBSUB', 'NUMSUB', `${namespace}:lease:done`])
    return Number((reply as unknown as unknown[])[1])
  }
  const setCalls = async () => {
    const stats = await redis.sendCommand(['INFO', 'commandstats'])
    return Number(/cmdstat_set:calls=(\d+)/.exec(String(stats))?.[1] ?? 0)
  }
  /** Waits until Redis has counted `n` more lease `SET`s than `from`. */
  const setsSent = async (from: number, n: number) =>
    until(`${n} lease SETs`, async () => (await setCalls()) >= from + n)

  it('wakes a waiter when the holder releases, long before its next poll', async () => {
    const namespace = testNamespace('wake')
    const holder = processOn(namespace)
    const waiter = processOn(namespace, never)
    await until('both subscribers', async () => (await subscribers(namespace)) === 2)
    const upstream = gatedUpstream('the one answer')
    const call = makeCall({ key: 'woken' })
    const sets = await setCalls()
    const holding = holder.lease.stage(call, upstream.next)
    // The holder took the lease first; then the waiter asked for it too, and now waits on it.
    await setsSent(sets, 1)
    const waiting = waiter.lease.stage(makeCall({ key: 'woken' }), upstream.next)
    await setsSent(sets, 2)
    upstream.open()
    const [mine, theirs] = await Promise.all([holding, waiting])
    expect([textOf(mine), textOf(theirs)]).toEqual(['the one answer', 'the one answer'])
    expect(upstream.calls).toBe(1)
    expect(waiter.types()).toEqual(['leaseJoined'])
    expect(waiter.ctx.counters.coalesced).toBe(1)
  })

  it('still ends by polling when no notification comes', async () => {
    const namespace = testNamespace('unnotified')
    const waiter = processOn(namespace)
    await until('the subscriber', async () => (await subscribers(namespace)) === 1)
    // A holder that stores and releases without a word (one of an older breakwater, say).
    const lease = `${namespace}:lease:silent`
    await redis.set(lease, 'a-silent-holder', { PX: 30_000 })
    const upstream = gatedUpstream('never asked')
    const waiting = waiter.lease.stage(makeCall({ key: 'silent' }), upstream.next)
    await redis.hSet(`${namespace}:entries`, 'silent', 'stored quietly')
    await redis.del(lease)
    expect(textOf(await waiting)).toBe('stored quietly')
    expect(upstream.calls).toBe(0)
    expect(waiter.types()).toEqual(['leaseJoined'])
  })

  /**
   * A waiter on manual timers, waiting on a lease that a silent holder ends, with its entry
   * stored: it can be answered only by a poll, and only when the test moves time. Resolves once
   * the waiter naps; `settled` says whether it was answered.
   */
  const silentlyReleased = async (namespace: string, tuning: LeaseTuning) => {
    const time = createManualTime()
    const waiter = processOn(namespace, { ...tuning, timers: time })
    const live = tuning.subscribe === false ? 0 : 1
    await until('the subscriber', async () => (await subscribers(namespace)) === live)
    const lease = `${namespace}:lease:silent`
    await redis.set(lease, 'a-silent-holder', { PX: 60_000 })
    const upstream = gatedUpstream('never asked')
    const state = { settled: false }
    const waiting = waiter.lease.stage(makeCall({ key: 'silent' }), upstream.next)
    void waiting.finally(() => {
      state.settled = true
    })
    await until('the waiter napping', async () => time.pending === 1)
    await redis.hSet(`${namespace}:entries`, 'silent', 'stored without a word')
    await redis.del(lease)
    return { time, waiting, state, upstream }
  }

  it('polls only as a slow safety net while its subscriber is live', async () => {
    const { time, waiting, state, upstream } = await silentlyReleased(testNamespace('net'), {})
    await time.advance(livePolls.first - 1)
    // Had it looked, Redis would have answered it well within this.
    await delay(100)
    expect(state.settled).toBe(false)
    await time.advance(1)
    expect(textOf(await waiting)).toBe('stored without a word')
    expect(upstream.calls).toBe(0)
  })

  it('polls quickly while no notification can come', async () => {
    const namespace = testNamespace('quick')
    const silent = await silentlyReleased(namespace, { subscribe: false })
    await silent.time.advance(quickPolls.first - 1)
    await delay(100)
    expect(silent.state.settled).toBe(false)
    await silent.time.advance(1)
    expect(textOf(await silent.waiting)).toBe('stored without a word')
  })

  it('looks again once its subscriber is back, when the release came while it was killed', async () => {
    const namespace = testNamespace('killed')
    const holder = processOn(namespace, { subscribe: false })
    const waiter = processOn(namespace, never)
    await until('the subscriber', async () => (await subscribers(namespace)) === 1)
    const upstream = gatedUpstream('after the gap')
    const sets = await setCalls()
    const holding = holder.lease.stage(makeCall({ key: 'gap' }), upstream.next)
    await setsSent(sets, 1)
    const waiting = waiter.lease.stage(makeCall({ key: 'gap' }), upstream.next)
    await setsSent(sets, 2)
    await redis.sendCommand(['CLIENT', 'KILL', 'TYPE', 'pubsub'])
    // Released and published at once: the subscriber reconnects only after a backoff.
    upstream.open()
    expect(textOf(await holding)).toBe('after the gap')
    expect(textOf(await waiting)).toBe('after the gap')
    expect(upstream.calls).toBe(1)
    await until('the subscriber back', async () => (await subscribers(namespace)) === 1)
    // And notifications work again on the subscriber that came back.
    const next = gatedUpstream('once more')
    const again = await setCalls()
    const second = holder.lease.stage(makeCall({ key: 'again' }), next.next)
    await setsSent(again, 1)
    const woken = waiter.lease.stage(makeCall({ key: 'again' }), next.next)
    await setsSent(again, 2)
    next.open()
    expect(textOf(await second)).toBe('once more')
    expect(textOf(await woken)).toBe('once more')
  })

  it('looks again on a gap in its subscription, for a release it may have missed', async () => {
    const namespace = testNamespace('gap')
    const waiter = processOn(namespace, never)
    await until('the subscriber', async () => (await subscribers(namespace)) === 1)
    const lease = `${namespace}:lease:gap`
    await redis.set(lease, 'a-silent-holder', { PX: 30_000 })
    const upstream = gatedUpstream('never asked')
    const sets = await setCalls()
    const waiting = waiter.lease.stage(makeCall({ key: 'gap' }), upstream.next)
    await setsSent(sets, 1)
    // Released without a word while the subscriber is down: heard of by no one.
    await redis.sendCommand(['CLIENT', 'KILL', 'TYPE', 'pubsub'])
    await redis.hSet(`${namespace}:entries`, 'gap', 'stored in the gap')
    await redis.del(lease)
    expect(textOf(await waiting)).toBe('stored in the gap')
    expect(upstream.calls).toBe(0)
  })

  it('keeps working by polling when Redis refuses the subscription', async () => {
    // An ACL without channels refuses SUBSCRIBE, and the PUBLISH of every release.
    await server.cli('ACL', 'SETUSER', 'default', 'resetchannels')
    const namespace = testNamespace('refused')
    const holder = processOn(namespace)
    const waiter = processOn(namespace, quick)
    const upstream = gatedUpstream('by polling')
    const sets = await setCalls()
    const holding = holder.lease.stage(makeCall({ key: 'refused' }), upstream.next)
    await setsSent(sets, 1)
    const waiting = waiter.lease.stage(makeCall({ key: 'refused' }), upstream.next)
    await setsSent(sets, 2)
    upstream.open()
    expect([textOf(await holding), textOf(await waiting)]).toEqual(['by polling', 'by polling'])
    expect(upstream.calls).toBe(1)
    expect(waiter.types()).toEqual(['leaseJoined'])
    expect(await redis.keys(`${namespace}:lease:*`)).toEqual([])
    expect(await subscribers(namespace)).toBe(0)
  })

  it('closes its subscriber on close, even while it reconnects', async () => {
    const namespace = testNamespace('close')
    const { lease } = processOn(namespace)
    await until('the subscriber', async () => (await subscribers(namespace)) === 1)
    await redis.sendCommand(['CLIENT', 'KILL', 'TYPE', 'pubsub'])
    await lease.close()
    await until('no subscriber', async () => (await subscribers(namespace)) === 0)
    // no-open-handles fails the file if a socket or a timer that holds the loop stayed behind.
  })

  it('opens one subscriber per instance, and its close() closes it', async () => {
    const namespace = testNamespace('instance')
    const fetch = createFetch({ redis: server.url, namespace })
    await until('the subscriber', async () => (await subscribers(namespace)) === 1)
    await fetch.close()
    // Redis drops the subscription once it sees the socket closed, a moment after close().
    await until('no subscriber', async () => (await subscribers(namespace)) === 0)
  })
})

describe('the lease on Redis Cluster', () => {
  const nodes = useOneNodeCluster()

  it('neither subscribes nor publishes, and its waiters get the entry by polling', async () => {
    const namespace = testNamespace('cluster-wake')
    const resolved = resolveRedis(nodes.client)
    if (!resolved) throw new Error('redis expected')
    const made = [0, 1].map(() => {
      const ctx = realContext()
      const connection = new RedisConnection(resolved, namespace, ctx)
      const entries: CacheEntries = {
        fresh: async (call) => {
          const text = await nodes.client.get(`${namespace}:entry:${call.key}`)
          return text === null ? undefined : httpOutcome(200, text)
        },
        save: async (call, outcome) => {
          await nodes.client.set(`${namespace}:entry:${call.key}`, textOf(outcome))
          return true
        },
      }
      return { ctx, connection, lease: createLeaseStage(ctx, connection, entries) }
    })
    const [holder, waiter] = made as [(typeof made)[0], (typeof made)[0]]
    const upstream = gatedUpstream('from the cluster')
    const holding = holder.lease.stage(makeCall({ key: 'c' }), upstream.next)
    await until(
      'the lease',
      async () => (await nodes.client.keys(`${namespace}:lease:*`)).length > 0,
    )
    const waiting = waiter.lease.stage(makeCall({ key: 'c' }), upstream.next)
    upstream.open()
    expect([textOf(await holding), textOf(await waiting)]).toEqual(
      Array(2).fill('from the cluster'),
    )
    expect(upstream.calls).toBe(1)
    expect(waiter.ctx.seen.map((e) => e.type)).toEqual(['leaseJoined'])
    const numsub = await nodes.client.sendCommand(undefined, true, [
      'PUBSUB',
      'NUMSUB',
      `${namespace}:lease:done`,
    ])
    expect(Number((numsub as unknown as unknown[])[1])).toBe(0)
    for (const { lease, connection } of made) {
      await lease.close()
      await connection.close()
    }
  })
})
