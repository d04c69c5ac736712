import { describe, expect, it } from 'vitest'
import { synthRequests } from '../../src/replay/synth.js'

const options = { requests: 2_000, keys: 100, zipf: 1, rate: 20, seed: 5 }

describe('synthRequests', () => {
  it('writes the same trace for the same seed, other keys for another seed', () => {
    const a = [...synthRequests(options)]
    expect(a).toEqual([...synthRequests(options)])
    const urls = (seed: number) => [...synthRequests({ ...options, seed })].map((r) => r.url)
    expect(urls(5)).not.toEqual(urls(6))
  })

  it('draws arrival times independently of keys', () => {
    const trace = [...synthRequests({ ...options, requests: 20_000 })]
    const ranks = trace.slice(0, -1).map((r) => Number(r.url.slice('/items/'.length)))
    const gaps = trace.slice(1).map((r, i) => r.t - (trace[i]?.t as number))
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length
    const [mr, mg] = [mean(ranks), mean(gaps)]
    const covariance = mean(ranks.map((r, i) => (r - mr) * ((gaps[i] as number) - mg)))
    const spread = (xs: number[], m: number) => Math.sqrt(mean(xs.map((x) => (x - m) ** 2)))
    expect(Math.abs(covariance / (spread(ranks, mr) * spread(gaps, mg)))).toBeLessThan(0.05)
  })

  it('starts at 0 and arrives at about the requested rate', () => {
    const trace = [...synthRequests(options)]
    expect(trace).toHaveLength(2_000)
    expect(trace[0]?.t).toBe(0)
    const last = trace.at(-1)?.t as number
    // 1999 gaps of 50 ms on average.
    expect(last / 1_999).toBeGreaterThan(45)
    expect(last / 1_999).toBeLessThan(55)
    for (let i = 1; i < trace.length; i++) {
      expect(trace[i]?.t).toBeGreaterThanOrEqual(trace[i - 1]?.t as number)
    }
  })

  it('keeps the keys when only the rate changes', () => {
    const urls = (rate: number) => [...synthRequests({ ...options, rate })].map((r) => r.url)
    expect(urls(5)).toEqual(urls(500))
  })

  it('gives each key one size, within the bounds', () => {
    const sizes = new Map<string, Set<number>>()
    for (const { url, bytes } of synthRequests(options)) {
      expect(bytes).toBeGreaterThanOrEqual(128)
      expect(bytes).toBeLessThanOrEqual(256 * 1_024)
      sizes.set(url, (sizes.get(url) ?? new Set()).add(bytes))
    }
    for (const set of sizes.values()) expect(set.size).toBe(1)
    expect(new Set([...sizes.values()].map((s) => [...s][0])).size).toBeGreaterThan(50)
  })

  it('draws keys from a Zipf law: /items/1 is the most requested', () => {
    const counts = new Map<string, number>()
    for (const { url } of synthRequests({ ...options, requests: 20_000 })) {
      counts.set(url, (counts.get(url) ?? 0) + 1)
    }
    const top = [...counts].sort((a, b) => b[1] - a[1])[0]
    expect(top?.[0]).toBe('/items/1')
    // 1 / H(100) of the requests, about 19 %.
    expect((counts.get('/items/1') as number) / 20_000).toBeCloseTo(0.193, 1)
  })

  it('refuses a bad request count or seed', () => {
    expect(() => [...synthRequests({ ...options, requests: 0 })]).toThrow(
      'requests must be a whole number ≥ 1',
    )
    expect(() => [...synthRequests({ ...options, seed: 1.5 })]).toThrow(
      'the seed must be a whole number',
    )
  })
})
