import { Keyv, KeyvHooks, type KeyvStoreAdapter } from 'keyv'
import { afterEach, describe, expect, it } from 'vitest'
import { createCacheStage } from '../../src/cache/cache-stage.js'
import { createMemoryKeyv } from '../../src/cache/memory-store.js'
import type { ResolvedCache } from '../../src/cache/options.js'
import type { Call } from '../../src/core/call.js'
import { CircuitOpenError, TimeoutError } from '../../src/core/errors.js'
import type { Outcome } from '../../src/core/outcome.js'
import type { Next } from '../../src/core/stage.js'
import { httpOutcome, makeCall, makeContext, textOf } from '../helpers/call.js'

const cacheOptions = (overrides: Partial<ResolvedCache> = {}): ResolvedCache => ({
  ttl: 1_000,
  maxEntries: 100,
  maxBodyBytes: 1_048_576,
  maxTotalBytes: 16 * 1_048_576,
  staleWhileRevalidate: 0,
  staleIfError: 0,
  methods: new Set(['GET', 'HEAD']),
  respectCacheControl: true,
  keyHeaders: [],
  store: undefined,
  shared: false,
  ...overrides,
})

const memory = (maxTotalBytes = 16 * 1_048_576) =>
  createMemoryKeyv({ maxEntries: 100, maxTotalBytes, maxBodyBytes: 1_048_576, namespace: 'test' })

const closing: (() => Promise<void>)[] = []
afterEach(async () => {
  await Promise.all(closing.splice(0).map((close) => close()))
})

function setup(overrides: Partial<ResolvedCache> = {}, store: Keyv = memory()) {
  const ctx = makeContext()
  const { stage, close } = createCacheStage(ctx, cacheOptions(overrides), store)
  closing.push(close)
  return { ctx, stage, close, store }
}

/** A `next` that answers with `answer(n)` for its n-th call (1-based) and records the calls. */
function upstream(answer: (n: number) => Outcome | Promise<Outcome>) {
  const sent: Call[] = []
  const next: Next = async (call) => {
    sent.push(call)
    return answer(sent.length)
  }
  return { next, sent }
}

/** A `next` whose answers wait until the test opens the gate. */
function gated() {
  const sent: Call[] = []
  let open: (outcome: Outcome) => void = () => {}
  const gate = new Promise<Outcome>((resolve) => {
    open = resolve
  })
  const next: Next = (call) => {
    sent.push(call)
    return gate
  }
  return { next, sent, open: (outcome: Outcome) => open(outcome) }
}

/** A store whose every read and write fails, as a Redis store does while Redis is down. */
class DownStore implements KeyvStoreAdapter {
  opts = {}
  namespace: string | undefined
  async get(): Promise<undefined> {
    throw new Error('store down')
  }
  async set(): Promise<boolean> {
    throw new Error('store down')
  }
  async delete(): Promise<boolean> {
    throw new Error('store down')
  }
  async clear(): Promise<void> {}
  on(): this {
    return this
  }
}

const versions = (n: number) => httpOutcome(200, `v${n}`)

describe('createCacheStage', () => {
  it('serves a fresh entry without going upstream, counting one miss then one hit', async () => {
    const { ctx, stage } = setup()
    const up = upstream(versions)
    expect(textOf(await stage(makeCall(), up.next))).toBe('v1')
    expect(textOf(await stage(makeCall(), up.next))).toBe('v1')
    expect(up.sent).toHaveLength(1)
    expect(ctx.counters).toMatchObject({ cacheMisses: 1, cacheHits: 1, staleServed: 0 })
    expect(ctx.seen).toEqual([
      { type: 'miss', key: 'k1', method: 'GET', target: 'http://127.0.0.1:1/a' },
      { type: 'hit', key: 'k1', method: 'GET', target: 'http://127.0.0.1:1/a' },
    ])
  })

  it('sends a call that is not cacheable straight to next, past a fresh entry', async () => {
    const { ctx, stage } = setup()
    const up = upstream(versions)
    await stage(makeCall(), up.next)
    const outcome = await stage(makeCall({ cacheable: false }), up.next)
    expect(textOf(outcome)).toBe('v2')
    expect(ctx.counters).toMatchObject({ cacheMisses: 1, cacheHits: 0 })
    expect(textOf(await stage(makeCall(), up.next))).toBe('v1')
  })

  it('lets an entry expire by the context clock', async () => {
    const { ctx, stage } = setup({ ttl: 1_000 })
    const up = upstream(versions)
    await stage(makeCall(), up.next)
    ctx.time.now += 999
    expect(textOf(await stage(makeCall(), up.next))).toBe('v1')
    ctx.time.now += 1
    expect(textOf(await stage(makeCall(), up.next))).toBe('v2')
    expect(ctx.counters).toMatchObject({ cacheMisses: 2, cacheHits: 1 })
  })

  it('honors the call’s own ttl over the response’s max-age', async () => {
    const { ctx, stage } = setup()
    const up = upstream((n) => httpOutcome(200, `v${n}`, [['cache-control', 'max-age=3600']]))
    await stage(makeCall({ ttl: 50 }), up.next)
    ctx.time.now += 50
    expect(textOf(await stage(makeCall({ ttl: 50 }), up.next))).toBe('v2')
  })

  it('does not store what may not be stored', async () => {
    const { ctx, stage } = setup()
    const up = upstream((n) => httpOutcome(404, `v${n}`))
    await stage(makeCall(), up.next)
    expect(textOf(await stage(makeCall(), up.next))).toBe('v2')
    expect(ctx.counters.cacheErrors).toBe(0)
  })

  it('asks the store to keep an entry until its last window closes', async () => {
    const { stage, store } = setup({ ttl: 100, staleWhileRevalidate: 200, staleIfError: 500 })
    await stage(makeCall(), upstream(versions).next)
    const raw = await store.getRaw('k1')
    const left = (raw?.expires ?? 0) - Date.now()
    expect(left).toBeGreaterThan(500)
    expect(left).toBeLessThanOrEqual(600)
  })

  it('serves stale to 10 concurrent callers and refreshes once in the background', async () => {
    const { ctx, stage, close } = setup({ ttl: 100, staleWhileRevalidate: 10_000 })
    await stage(makeCall(), upstream(versions).next)
    ctx.time.now += 150
    ctx.seen.length = 0
    const refresh = gated()
    const caller = new AbortController()
    const stale = await Promise.all(
      Array.from({ length: 10 }, () => stage(makeCall({ signal: caller.signal }), refresh.next)),
    )
    expect(stale.map(textOf)).toEqual(Array(10).fill('v1'))
    expect(refresh.sent).toHaveLength(1)
    expect(refresh.sent[0]?.signal).toBeUndefined()
    expect(ctx.counters.staleServed).toBe(10)
    expect(ctx.seen.every((e) => e.type === 'stale' && e.reason === 'revalidate')).toBe(true)
    refresh.open(httpOutcome(200, 'v2'))
    await close()
    expect(textOf(await stage(makeCall(), refresh.next))).toBe('v2')
    expect(ctx.counters.cacheHits).toBe(1)
  })

  it('swallows a failed refresh, keeps serving stale and refreshes again later', async () => {
    const { ctx, stage, close } = setup({ ttl: 100, staleWhileRevalidate: 10_000 })
    await stage(makeCall(), upstream(versions).next)
    ctx.time.now += 150
    const failing = upstream(() => Promise.reject(new Error('upstream down')))
    expect(textOf(await stage(makeCall(), failing.next))).toBe('v1')
    await close()
    expect(textOf(await stage(makeCall(), failing.next))).toBe('v1')
    await close()
    expect(failing.sent).toHaveLength(2)
    expect(ctx.counters.staleServed).toBe(2)
  })

  it('serves a stale entry when next throws, answers 503 or times out, or the breaker is open', async () => {
    const { ctx, stage } = setup({ ttl: 100, staleIfError: 10_000 })
    await stage(makeCall(), upstream(versions).next)
    ctx.time.now += 200
    ctx.seen.length = 0
    const failures: Next[] = [
      async () => {
        throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })
      },
      async () => httpOutcome(503, 'down'),
      async () => {
        throw new TimeoutError(50)
      },
      async () => {
        throw new CircuitOpenError('http://127.0.0.1:1', 5_000)
      },
    ]
    for (const next of failures) expect(textOf(await stage(makeCall(), next))).toBe('v1')
    expect(ctx.counters).toMatchObject({ staleServed: 4, cacheMisses: 1 })
    expect(ctx.seen.map((e) => (e.type === 'stale' ? e.reason : e.type))).toEqual(
      Array(4).fill('error'),
    )
  })

  it('lets a failure through once the stale-if-error window has closed', async () => {
    const { ctx, stage } = setup({ ttl: 100, staleIfError: 1_000 })
    await stage(makeCall(), upstream(versions).next)
    ctx.time.now += 1_100
    const down = upstream(() => Promise.reject(new Error('upstream down')))
    await expect(stage(makeCall(), down.next)).rejects.toThrow('upstream down')
    expect(ctx.counters.staleServed).toBe(0)
  })

  it('passes on answers that are not failures and stores a success over the stale entry', async () => {
    const { ctx, stage } = setup({ ttl: 100, staleIfError: 10_000 })
    await stage(makeCall(), upstream(versions).next)
    ctx.time.now += 200
    expect((await stage(makeCall(), async () => httpOutcome(404, 'gone'))).kind).toBe('http')
    expect(textOf(await stage(makeCall(), async () => httpOutcome(200, 'v2')))).toBe('v2')
    expect(textOf(await stage(makeCall(), upstream(versions).next))).toBe('v2')
    expect(ctx.counters).toMatchObject({ staleServed: 0, cacheMisses: 3, cacheHits: 1 })
  })

  it('does not hide the caller’s own abort behind a stale entry', async () => {
    const { ctx, stage } = setup({ ttl: 100, staleIfError: 10_000 })
    await stage(makeCall(), upstream(versions).next)
    ctx.time.now += 200
    const caller = new AbortController()
    const reason = new Error('caller left')
    caller.abort(reason)
    const aborted = stage(makeCall({ signal: caller.signal }), async (call) => {
      throw call.signal?.reason
    })
    await expect(aborted).rejects.toBe(reason)
    expect(ctx.counters.staleServed).toBe(0)
  })

  it('fails open when the store fails, counting each failure apart from misses', async () => {
    const store = new Keyv({ store: new DownStore(), throwOnErrors: true })
    const { ctx, stage } = setup({}, store)
    const up = upstream(versions)
    expect(textOf(await stage(makeCall(), up.next))).toBe('v1')
    expect(textOf(await stage(makeCall(), up.next))).toBe('v2')
    expect(ctx.counters).toMatchObject({ cacheErrors: 4, cacheMisses: 2, cacheHits: 0 })
    expect(ctx.seen.filter((e) => e.type === 'cacheError')).toHaveLength(4)
  })

  it('counts a write the store refused as a cache error', async () => {
    const { ctx, stage } = setup({}, memory(100))
    const up = upstream((n) => httpOutcome(200, `v${n}`.repeat(200)))
    await stage(makeCall(), up.next)
    await stage(makeCall(), up.next)
    expect(up.sent).toHaveLength(2)
    expect(ctx.counters.cacheErrors).toBe(2)
  })

  it('treats a foreign value under the key as a miss and a cache error, never serving it', async () => {
    const { ctx, stage, store } = setup()
    await store.set('k1', { outcome: httpOutcome(200, 'forged'), times: { freshUntil: 'soon' } })
    const up = upstream(versions)
    expect(textOf(await stage(makeCall(), up.next))).toBe('v1')
    expect(ctx.counters).toMatchObject({ cacheErrors: 1, cacheMisses: 1 })
    expect(ctx.seen.map((e) => e.type)).toEqual(['cacheError', 'miss'])
    expect(textOf(await stage(makeCall(), up.next))).toBe('v1')
    expect(ctx.counters.cacheHits).toBe(1)
  })

  it('writes an outcome shared by coalesced callers only once', async () => {
    const { stage, store } = setup()
    let writes = 0
    store.hooks.addHandler(KeyvHooks.PRE_SET, () => {
      writes++
    })
    const up = gated()
    const runs = Array.from({ length: 5 }, () => stage(makeCall(), up.next))
    await new Promise((resolve) => setImmediate(resolve))
    up.open(httpOutcome(200, 'shared'))
    const outcomes = await Promise.all(runs)
    expect(new Set(outcomes.map((o) => (o.kind === 'http' ? o.body : o))).size).toBe(1)
    expect(writes).toBe(1)
  })

  it('stores a copy of a value, so that a caller changing its result never reaches the cache', async () => {
    const { stage } = setup()
    const value = { n: 1 }
    const call = makeCall({ kind: 'value', method: 'CALL', headers: undefined })
    const first = await stage(call, async () => ({ kind: 'value', value }))
    expect(first).toEqual({ kind: 'value', value: { n: 1 } })
    value.n = 2
    const hit = await stage(call, async () => ({ kind: 'value', value: 'upstream' }))
    expect(hit).toEqual({ kind: 'value', value: { n: 1 } })
  })

  it('does not store a value it cannot copy', async () => {
    const { ctx, stage } = setup()
    const call = makeCall({ kind: 'value', method: 'CALL', headers: undefined })
    const up = upstream(() => ({ kind: 'value', value: { run: () => 1 } }))
    await stage(call, up.next)
    await stage(call, up.next)
    expect(up.sent).toHaveLength(2)
    expect(ctx.counters.cacheErrors).toBe(0)
  })
})
