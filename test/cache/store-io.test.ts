import '../helpers/no-open-handles.js'
import Keyv from 'keyv'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { jsonCodec, rawCodec } from '../../src/cache/codec.js'
import type { CacheEntry } from '../../src/cache/entry.js'
import { createStoreIo } from '../../src/cache/store-io.js'
import { createFetch } from '../../src/fetch.js'
import { httpOutcome, makeCall, makeContext, textOf } from '../helpers/call.js'
import { testNamespace } from '../helpers/redis.js'
import { RedisServer } from '../helpers/redis-server.js'
import { delay, reply, startUpstream } from '../helpers/upstream.js'

const times = { storedAt: 1, freshUntil: 2, staleWhileRevalidateUntil: 3, staleIfErrorUntil: 4 }
const entry = (text: string): CacheEntry => ({ outcome: httpOutcome(200, text), times })

/** A store a round trip away, whose reads the test answers one by one. */
function slowStore() {
  const values = new Map<string, unknown>()
  const pending: (() => void)[] = []
  let reads = 0
  const store = {
    get(key: string) {
      reads++
      // Read when answered, as a remote store answers with what it holds then.
      return new Promise((resolve) => pending.push(() => resolve(values.get(key))))
    },
    async set(key: string, value: unknown) {
      values.set(key, value)
      return true
    },
    async delete(key: string) {
      return values.delete(key)
    },
    async clear() {
      values.clear()
    },
  }
  return {
    keyv: new Keyv({ store: store as never, useKeyPrefix: false }),
    answer: () => {
      for (const one of pending.splice(0)) one()
    },
    reads: () => reads,
  }
}

describe('reads of the cache store', () => {
  it('shares one read among the readers of a key in flight at once', async () => {
    const store = slowStore()
    const io = createStoreIo(makeContext(), store.keyv, rawCodec, true)
    const call = makeCall({ key: 'k' })
    const reads = [io.read(call), io.read(call), io.read(makeCall({ key: 'k' }))]
    await delay(0)
    store.answer()
    expect(await Promise.all(reads)).toEqual([undefined, undefined, undefined])
    expect(store.reads()).toBe(1)
    // Over once answered: the next reader reads again.
    const again = io.read(call)
    await delay(0)
    store.answer()
    await again
    expect(store.reads()).toBe(2)
  })

  it('lets no read that starts after a write of its key join one from before it', async () => {
    const store = slowStore()
    const io = createStoreIo(makeContext(), store.keyv, jsonCodec, true)
    const call = makeCall({ key: 'k' })
    const before = io.read(call)
    await io.write(call, entry('written'), 10_000)
    const after = io.read(call)
    await delay(0)
    store.answer()
    expect(await before).toMatchObject({ times })
    expect(textOf((await after)?.outcome ?? httpOutcome(404, 'none'))).toBe('written')
    expect(store.reads()).toBe(2)
  })

  it('reads for each reader of a store of its own, and for each lookup', async () => {
    const store = slowStore()
    const io = createStoreIo(makeContext(), store.keyv, rawCodec)
    const shared = createStoreIo(makeContext(), store.keyv, rawCodec, true)
    const call = makeCall({ key: 'k' })
    const all = [io.read(call), io.read(call), shared.lookup(call), shared.lookup(call)]
    await delay(0)
    store.answer()
    await Promise.all(all)
    expect(store.reads()).toBe(4)
  })
})

describe('a cold key asked by many callers at once, on Redis', () => {
  let server: RedisServer

  beforeAll(async () => {
    server = await RedisServer.create()
  })
  afterAll(() => server.stop())

  it('costs Redis a few reads of the cache, not one per caller', async () => {
    const upstream = await startUpstream(async (_req, res) => {
      await delay(50)
      reply(res, 200, 'cold')
    })
    const fetch = createFetch({
      redis: server.url,
      namespace: testNamespace('reads'),
      retry: false,
    })
    try {
      // Warmed up on another key: the connection is up and @keyv/redis loaded.
      await (await fetch(`${upstream.url}/warm`)).text()
      const getsOf = async () =>
        Number(/cmdstat_get:calls=(\d+)/.exec(await server.cli('INFO', 'commandstats'))?.[1] ?? 0)
      const before = await getsOf()
      const bodies = await Promise.all(
        Array.from({ length: 20 }, async () => (await fetch(`${upstream.url}/cold`)).text()),
      )
      expect(bodies).toEqual(Array(20).fill('cold'))
      // The reads in flight together share one; the holder reads the URL's variants before it
      // writes its own in, and the lease's release script reads the lease: 3 when all 20 reads
      // start together, a read more for each caller that reaches the cache after the first
      // read ended, never one per caller.
      const gets = (await getsOf()) - before
      expect(gets).toBeGreaterThanOrEqual(3)
      expect(gets).toBeLessThanOrEqual(6)
      expect(upstream.requests.filter((r) => r.url === '/cold')).toHaveLength(1)
    } finally {
      await fetch.close()
      await upstream.close()
    }
  })
})
