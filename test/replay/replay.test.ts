import { describe, expect, it } from 'vitest'
import { replayGrid } from '../../src/replay/replay.js'
import { parse, randomRequests, traceOf } from '../helpers/traces.js'

describe('replayGrid', () => {
  it('gives one row per size × TTL, TTL by TTL', async () => {
    const trace = traceOf(randomRequests(1, 2_000, 100, 10))
    const seen: string[] = []
    const summary = await replayGrid(trace, {
      maxEntries: [10, 100],
      ttls: [1_000, 60_000],
      onProgress: (done, total, row) =>
        seen.push(`${done}/${total} ${row.maxEntries}@${row.ttlMs}`),
    })
    expect(summary.rows.map((r) => `${r.maxEntries}@${r.ttlMs}`)).toEqual([
      '10@1000',
      '100@1000',
      '10@60000',
      '100@60000',
    ])
    expect(seen).toEqual(['0/4 10@1000', '1/4 100@1000', '2/4 10@60000', '3/4 100@60000'])
    for (const row of summary.rows) {
      expect(row.optimal.hitRatio).toBeGreaterThanOrEqual(row.lru.hitRatio)
      expect(row.compulsory.hitRatio).toBeGreaterThanOrEqual(row.optimal.hitRatio)
      expect(row.lru.hits + row.lru.upstreamCalls).toBe(2_000)
      expect(row.moneySaved).toBeNull()
    }
    // The bound knows no size: the same for both sizes of a TTL.
    expect(summary.rows[0]?.compulsory).toEqual(summary.rows[1]?.compulsory)
  })

  it('counts hits and bytes over every request, the uncacheable ones included', async () => {
    const trace = traceOf([
      { key: 'P', t: 0, bytes: 300, method: 'POST' },
      { key: 'A', t: 1, bytes: 100 },
      { key: 'A', t: 2, bytes: 200 },
      { key: 'P', t: 3, bytes: 400, method: 'POST' },
    ])
    const summary = await replayGrid(trace, { maxEntries: [1], ttls: [60_000], costPerCall: 0.25 })
    const row = summary.rows[0]
    expect(summary).toMatchObject({ requests: 4, cacheable: 2, keys: 2, spanMs: 3 })
    expect(row?.lru).toEqual({ hits: 1, hitRatio: 0.25, byteHitRatio: 0.2, upstreamCalls: 3 })
    expect(row?.optimal).toEqual(row?.lru)
    expect(row?.compulsory).toEqual(row?.lru)
    expect(row?.moneySaved).toBe(0.25)
  })

  it('caches what the policy it is given allows, such as POST', async () => {
    const trace = traceOf([
      { key: 'P', t: 0, method: 'POST' },
      { key: 'P', t: 1, method: 'POST' },
    ])
    const policy = { methods: new Set(['POST']), maxBodyBytes: 1_024 }
    const summary = await replayGrid(trace, { maxEntries: [1], ttls: [60_000], policy })
    expect(summary.cacheable).toBe(2)
    expect(summary.rows[0]?.lru.hits).toBe(1)
    expect(summary.rows[0]?.optimal.hits).toBe(1)
  })

  it('has no byte hit ratio when the trace gives no sizes', async () => {
    const summary = await replayGrid(traceOf(parse('A@0 A@1')), { maxEntries: [1], ttls: [10] })
    expect(summary.rows[0]?.lru.byteHitRatio).toBeNull()
    expect(summary.rows[0]?.lru.hitRatio).toBe(0.5)
  })
})
