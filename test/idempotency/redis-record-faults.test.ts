import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { BreakwaterEvent } from '../../src/core/events.js'
import { type BreakwaterFetch, createFetch } from '../../src/fetch.js'
import { rawClient, redisUrl, testNamespace } from '../helpers/redis.js'
import { slack, timeout, upstreamMs, useRedisFaults } from '../helpers/redis-faults.js'
import { freePort } from '../helpers/redis-server.js'
import { delay, reply, startUpstream, type Upstream } from '../helpers/upstream.js'

describe('idempotency records through a Redis that fails', () => {
  const faults = useRedisFaults(
    (_req, res, seenReq, index) => {
      reply(res, 201, `#${index} ${seenReq.body}`)
    },
    ['--enable-debug-command', 'local'],
  )
  const { upstream, seen } = faults

  const open = (namespace: string, url = faults.server.url) =>
    faults.make({
      redis: { url, timeout },
      namespace,
      cache: false,
      retry: false,
      onEvent: (e) => seen.push(e),
    })
  /** One keyed POST, timed: what it answered and whether it was a replay. */
  const post = async (fetch: BreakwaterFetch, key: string, body: string) => {
    const started = performance.now()
    const res = await fetch(`${upstream.url}/orders`, {
      method: 'POST',
      body,
      breakwater: { idempotencyKey: key },
    })
    const text = await res.text()
    const ms = performance.now() - started
    return { status: res.status, text, replayed: res.headers.get('idempotent-replayed'), ms }
  }
  const fallbacks = () =>
    seen.filter((e) => e.type === 'redisFallback' && e.part === 'record').length

  it('records in process while Redis is down, and shares records again once it is back', async () => {
    await faults.server.start()
    const namespace = testNamespace('record-faults')
    const [a, b] = [open(namespace), open(namespace)]
    const first = await post(a, 'k-up', 'up')
    expect(await post(b, 'k-up', 'up')).toMatchObject({ text: first.text, replayed: 'true' })

    await faults.server.stop()
    const down = await post(a, 'k-down', 'down')
    expect(down).toMatchObject({ status: 201, replayed: null })
    expect(down.ms).toBeLessThan(upstreamMs + timeout + slack)
    // The record made in process serves this process; the other cannot see it.
    const again = await post(a, 'k-down', 'down')
    expect(again).toMatchObject({ text: down.text, replayed: 'true' })
    expect(again.ms).toBeLessThan(timeout + slack)
    // Only the claim went to Redis: the repeat found the key in process and stayed there.
    expect(a.stats().redisFallbacks).toBe(1)
    expect(fallbacks()).toBe(1)
    // A reused key with another body is still refused, in process.
    await expect(post(a, 'k-down', 'other')).rejects.toMatchObject({
      code: 'IDEMPOTENCY_CONFLICT',
    })

    await faults.server.start()
    const started = performance.now()
    while (!seen.some((e) => e.type === 'redisUp') && performance.now() - started < 5_000) {
      await post(a, `k-probe-${performance.now()}`, 'probe')
      await delay(100)
    }
    expect(seen.map((e) => e.type)).toContain('redisUp')
    const before = fallbacks()
    const back = await post(a, 'k-back', 'back')
    expect(await post(b, 'k-back', 'back')).toMatchObject({ text: back.text, replayed: 'true' })
    expect(fallbacks()).toBe(before)
    // A key this process used while Redis was down is still answered here, not sent again.
    const calls = upstream.requests.length
    expect(await post(a, 'k-down', 'down')).toMatchObject({ text: down.text, replayed: 'true' })
    expect(upstream.requests.length).toBe(calls)
  })

  it('completes keyed calls within the timeout plus the upstream when Redis was never there', async () => {
    const fetch = open(testNamespace('record-never'), `redis://127.0.0.1:${await freePort()}`)
    const times: number[] = []
    for (const key of ['n-1', 'n-2', 'n-3']) {
      const result = await post(fetch, key, key)
      expect(result).toMatchObject({ status: 201, replayed: null })
      times.push(result.ms)
    }
    console.info(`keyed POST, Redis never there: ${times.map((t) => t.toFixed(0)).join(', ')} ms`)
    for (const ms of times) expect(ms).toBeLessThan(upstreamMs + timeout + slack)
    expect(fetch.stats().redisFallbacks).toBe(3)
  })

  it('completes keyed calls within the timeout plus the upstream while Redis is paused', async () => {
    await faults.server.start()
    const namespace = testNamespace('record-paused')
    const fetch = open(namespace)
    await post(fetch, 'p-warm', 'warm')
    await faults.server.cli('CLIENT', 'PAUSE', '2000', 'ALL')
    try {
      const times: number[] = []
      for (const key of ['p-1', 'p-2']) {
        const result = await post(fetch, key, key)
        expect(result).toMatchObject({ status: 201, replayed: null })
        times.push(result.ms)
      }
      console.info(`keyed POST, Redis paused: ${times.map((t) => t.toFixed(0)).join(', ')} ms`)
      for (const ms of times) expect(ms).toBeLessThan(upstreamMs + timeout + slack)
      expect(fetch.stats().redisFallbacks).toBe(2)
    } finally {
      await faults.server.cli('CLIENT', 'UNPAUSE')
    }
    // The claim of p-1 that timed out reached Redis after the pause. Once Redis answers again
    // it is released: another instance sending p-1 does not wait for its 30 s lease.
    const started = performance.now()
    for (;;) {
      const before = fetch.stats().redisFallbacks
      await post(fetch, `p-probe-${performance.now()}`, 'probe')
      if (fetch.stats().redisFallbacks === before) break
      if (performance.now() - started > 5_000) throw new Error('Redis did not come back')
      await delay(100)
    }
    const other = await post(open(namespace), 'p-1', 'p-1')
    expect(other).toMatchObject({ status: 201, replayed: null })
    expect(other.ms).toBeLessThan(1_000)
  })

  it('sends each keyed POST of one process upstream once, whatever Redis does between repeats', async () => {
    const { server } = faults
    await server.start()
    const fetch = open(testNamespace('record-chaos'))
    const sent: string[] = []
    const answers = new Map<string, Set<string>>()
    const send = async (key: string) => {
      const { status, text } = await post(fetch, key, key)
      expect(status).toBe(201)
      answers.set(key, (answers.get(key) ?? new Set()).add(text))
    }
    /**
     * One phase: new keys, each sent twice at once and once more while `fault` is under way,
     * so that some are in flight on Redis claims when it strikes; and every key of the phases
     * before, sent again.
     */
    const phase = async (name: string, fault: () => Promise<unknown>) => {
      const fresh = Array.from({ length: 6 }, (_, i) => `${name}-${i}`)
      const calls = [...sent, ...fresh, ...fresh].map(send)
      sent.push(...fresh)
      // The upstream takes 50 ms: the fresh keys are running when the fault starts.
      await delay(20)
      const striking = fault()
      await delay(20)
      calls.push(...fresh.map(send), ...sent.map(send))
      await Promise.all([...calls, striking])
    }
    await phase('up', async () => {})
    await phase('paused', async () => {
      await server.cli('CLIENT', 'PAUSE', '1000', 'ALL')
      await delay(1_000)
    })
    // redis-cli answers once the server wakes.
    await phase('asleep', () => server.cli('DEBUG', 'SLEEP', '0.5'))
    // Restarted empty: what it held of this process is gone.
    await phase('restarted', async () => {
      await server.stop()
      await server.start()
    })
    await phase('killed', () => server.stop())
    await server.start()
    await phase('back', async () => {})

    const arrivals = new Map<string, number>()
    for (const { body } of upstream.requests) arrivals.set(body, (arrivals.get(body) ?? 0) + 1)
    const twice = sent.filter((key) => arrivals.get(key) !== 1)
    expect(twice.map((key) => `${key} x${arrivals.get(key) ?? 0}`)).toEqual([])
    expect(upstream.requests).toHaveLength(sent.length)
    // Every repeat got the one answer there was.
    for (const key of sent) expect(answers.get(key)?.size).toBe(1)
    expect(fetch.stats().redisFallbacks).toBeGreaterThan(0)
  })

  it('completes a keyed call that was waiting on another instance when Redis stops', async () => {
    await faults.server.start()
    const namespace = testNamespace('record-wait')
    const [a, b] = [open(namespace), open(namespace)]
    upstream.handle(async (_req, res, seenReq, index) => {
      await delay(600)
      reply(res, 201, `#${index} ${seenReq.body}`)
    })
    const holding = post(a, 'k-wait', 'slow')
    await delay(100)
    const waiting = post(b, 'k-wait', 'slow')
    await delay(100)
    await faults.server.stop()
    const [held, waited] = await Promise.all([holding, waiting])
    expect(held.status).toBe(201)
    // The waiter lost sight of the holder's record: it went on in process, alone.
    expect(waited).toMatchObject({ status: 201, replayed: null })
    expect(b.stats().redisFallbacks).toBeGreaterThanOrEqual(1)
  })
})

describe('a corrupt idempotency record in Redis', () => {
  let upstream: Upstream
  let raw: Awaited<ReturnType<typeof rawClient>>
  beforeAll(async () => {
    upstream = await startUpstream((_req, res, seenReq, index) => {
      reply(res, 201, `#${index} ${seenReq.body}`)
    })
    raw = await rawClient()
  })
  afterAll(async () => {
    raw.destroy()
    await upstream.close()
  })

  it('is treated as absent and reported, never served and never thrown', async () => {
    const namespace = testNamespace('record-corrupt')
    const seen: BreakwaterEvent[] = []
    const fetches: BreakwaterFetch[] = []
    /** Another process, as far as records go: an instance with no copy of its own yet. */
    const open = () => {
      const fetch = createFetch({
        redis: redisUrl(),
        namespace,
        retry: false,
        onEvent: (e) => seen.push(e),
      })
      fetches.push(fetch)
      return fetch
    }
    const send = async (fetch: BreakwaterFetch) => {
      const res = await fetch(`${upstream.url}/pay`, {
        method: 'POST',
        body: 'five euros',
        breakwater: { idempotencyKey: 'pay-1' },
      })
      return { text: await res.text(), replayed: res.headers.get('idempotent-replayed') }
    }
    const first = open()
    try {
      const original = await send(first)
      const keys = await raw.keys(`${namespace}:idem:*`)
      expect(keys).toHaveLength(1)
      const key = keys[0] as string
      for (const garbage of ['not ours', `${(await raw.get(key))?.slice(0, 80)}`]) {
        await raw.set(key, garbage, { PX: 60_000 })
        // The process that recorded the key replays it from its own copy; another one, which
        // has only Redis to go by, meets the garbage.
        expect(await send(first)).toEqual({ text: original.text, replayed: 'true' })
        const other = open()
        const calls = upstream.requests.length
        const again = await send(other)
        expect(again.replayed).toBeNull()
        expect(again.text).not.toBe(original.text)
        expect(upstream.requests.length).toBe(calls + 1)
        // The new outcome was recorded in its place, and is replayed.
        expect(await send(open())).toEqual({ text: again.text, replayed: 'true' })
      }
      const errors = seen.filter((e) => e.type === 'recordError')
      expect(errors).toHaveLength(2)
      for (const fetch of fetches) expect(fetch.stats().redisFallbacks).toBe(0)
    } finally {
      await Promise.all(fetches.map((f) => f.close()))
    }
  })
})
