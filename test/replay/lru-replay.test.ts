import { describe, expect, it } from 'vitest'
import {
  cacheableOf,
  defaultReplayPolicy,
  lruHits,
  replayLru,
} from '../../src/replay/lru-replay.js'
import { beladyHits, compulsoryHits, toLookups } from '../../src/replay/optimal.js'
import type { Trace } from '../../src/replay/trace.js'
import { parse, type Req, randomRequests, traceOf } from '../helpers/traces.js'

const replay = async (trace: Trace, size: number, ttl: number) => [
  ...(await replayLru(trace, cacheableOf(trace), size, ttl)),
]

/** LRU as textbooks have it, with a TTL from each fetch: what the cache stage must agree with. */
function textbookLru(requests: readonly Req[], size: number, ttl: number): number[] {
  const entries = new Map<string, number>()
  return requests.map(({ key, t }) => {
    const freshUntil = entries.get(key)
    entries.delete(key)
    if (freshUntil !== undefined && t < freshUntil) {
      entries.set(key, freshUntil)
      return 1
    }
    entries.set(key, t + ttl)
    if (entries.size > size) entries.delete(entries.keys().next().value as string)
    return 0
  })
}

describe('replayLru', () => {
  it('serves what a textbook LRU with TTL serves, request by request', async () => {
    for (let seed = 1; seed <= 12; seed++) {
      const requests = randomRequests(seed, 600, 80, 20)
      const trace = traceOf(requests)
      for (const [size, ttl] of [
        [5, 200],
        [20, 1_000],
        [200, 50],
      ] as const) {
        expect(await replay(trace, size, ttl)).toEqual(textbookLru(requests, size, ttl))
      }
    }
  })

  it('expires an entry exactly one TTL after its fetch, and a hit does not renew it', async () => {
    expect(await replay(traceOf(parse('A@0 A@9 A@10 A@15 A@19 A@20')), 10, 10)).toEqual([
      0, 1, 0, 1, 1, 0,
    ])
  })

  it('follows the simulated clock, not the wall clock', async () => {
    // 40,000 requests take far longer than 1 ms of real time: any store TTL on a real clock
    // would drop A before its second request, 0.9 simulated ms after the first.
    const fillers = Array.from({ length: 40_000 }, (_, i) => ({ key: `f${i % 10}`, t: 0.5 }))
    const trace = traceOf([{ key: 'A', t: 0 }, ...fillers, { key: 'A', t: 0.9 }])
    const hits = await replay(trace, 100, 1)
    expect(hits.at(-1)).toBe(1)
  })

  it('never serves nor stores what the cache could not store', async () => {
    const trace = traceOf([
      { key: 'A', t: 0, method: 'POST' },
      { key: 'A', t: 1, method: 'POST' },
      { key: 'B', t: 2, status: 500 },
      { key: 'B', t: 3, status: 500 },
      { key: 'C', t: 4, bytes: defaultReplayPolicy.maxBodyBytes + 1 },
      { key: 'C', t: 5, bytes: defaultReplayPolicy.maxBodyBytes + 1 },
      { key: 'D', t: 6, status: 200 },
      { key: 'D', t: 7, status: 200 },
    ])
    expect(await replay(trace, 10, 1_000)).toEqual([0, 0, 0, 0, 0, 0, 0, 1])
  })

  it('never beats Belady at its size, nor the compulsory bound', async () => {
    for (let seed = 20; seed <= 45; seed++) {
      const requests = randomRequests(seed, 500, 60, 15)
      const trace = traceOf(requests)
      const lookups = toLookups(requests)
      for (const [size, ttl] of [
        [3, 100],
        [10, 400],
        [30, 2_000],
        [60, 10],
      ] as const) {
        const lru = (await replay(trace, size, ttl)).reduce((a, b) => a + b, 0)
        const optimal = beladyHits(lookups, size, ttl).reduce((a, b) => a + b, 0)
        const bound = compulsoryHits(lookups, ttl).reduce((a, b) => a + b, 0)
        expect(optimal, `seed ${seed}, ${size} entries, ttl ${ttl}`).toBeGreaterThanOrEqual(lru)
        expect(bound).toBeGreaterThanOrEqual(optimal)
      }
    }
  })
})

describe('lruHits', () => {
  const hits = (requests: readonly Req[], size: number, ttl: number) => [
    ...lruHits(toLookups(requests), size, ttl),
  ]

  it('serves what the cache stage serves, request by request', async () => {
    for (let seed = 50; seed <= 65; seed++) {
      const requests = randomRequests(seed, 800, 90, 20)
      const trace = traceOf(requests)
      for (const [size, ttl] of [
        [1, 100],
        [4, 300],
        [25, 1_000],
        [90, 40],
      ] as const) {
        expect(hits(requests, size, ttl), `seed ${seed}, ${size} entries, ttl ${ttl}`).toEqual(
          await replay(trace, size, ttl),
        )
      }
    }
  })

  it('drops the least recently used, not the least recently fetched', () => {
    // A is fetched first but used again at 2: B is the one to go when C comes.
    expect(hits(parse('A@0 B@1 A@2 C@3 A@4 B@5'), 2, 1_000)).toEqual([0, 0, 1, 0, 1, 0])
  })

  it('expires an entry one TTL after its fetch and refetches it in place', () => {
    expect(hits(parse('A@0 A@9 A@10 A@15 A@19 A@20'), 10, 10)).toEqual([0, 1, 0, 1, 1, 0])
  })

  it('refuses a size below 1 and a TTL of 0', () => {
    const lookups = toLookups(parse('A@0'))
    expect(() => lruHits(lookups, 0, 10)).toThrow(/maxEntries must be a whole number ≥ 1, got 0/)
    expect(() => lruHits(lookups, 1, 0)).toThrow(/ttlMs must be above 0, got 0/)
  })
})

describe('cacheableOf', () => {
  it('takes GET and HEAD answered 2xx (but 206) or 304, within maxBodyBytes', () => {
    const trace = traceOf([
      { key: 'a', t: 0 },
      { key: 'b', t: 0, method: 'HEAD', status: 204 },
      { key: 'c', t: 0, status: 304, bytes: 0 },
      { key: 'd', t: 0, method: 'POST', status: 200 },
      { key: 'e', t: 0, status: 206 },
      { key: 'f', t: 0, status: 404 },
      { key: 'g', t: 0, status: 503 },
      { key: 'h', t: 0, bytes: 2_000_000 },
      { key: 'i', t: 0, status: 301 },
    ])
    expect([...cacheableOf(trace)]).toEqual([1, 1, 1, 0, 0, 0, 0, 0, 0])
  })

  it('follows the methods and body limit it is given', () => {
    const trace = traceOf([
      { key: 'a', t: 0, method: 'POST', bytes: 10 },
      { key: 'b', t: 0, bytes: 100 },
    ])
    const flags = cacheableOf(trace, { methods: new Set(['POST']), maxBodyBytes: 50 })
    expect([...flags]).toEqual([1, 0])
  })
})
