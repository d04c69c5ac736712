/**
 * The replay grid: for every cache size × TTL, what LRU (breakwater's own cache) served, beside
 * Belady's offline rule at that size and the compulsory-miss bound. The figures only; reading
 * files and printing are the command's.
 */
import { admissionHits, keyHashes } from './admission-replay.js'
import { cacheableOf, defaultReplayPolicy, lruHits, type ReplayPolicy } from './lru-replay.js'
import { beladyHits, compulsoryHits, type Lookups } from './optimal.js'
import type { Trace } from './trace.js'

/** What one policy did over the whole trace. */
export interface PolicyFigures {
  /** Requests served without an upstream call: the upstream calls saved. */
  readonly hits: number
  /** hits / requests (all of them, uncacheable ones included). */
  readonly hitRatio: number
  /** Bytes served from the cache / bytes of all answers; null when the trace gives no sizes. */
  readonly byteHitRatio: number | null
  /** Requests that went upstream. */
  readonly upstreamCalls: number
}

export interface ReplayRow {
  readonly maxEntries: number
  readonly ttlMs: number
  /** breakwater's cache: LRU, TTL from each fetch (see `lruHits`). */
  readonly lru: PolicyFigures
  /** The memory store under `cache.admission: 'tinylfu'`: the same rule on the same keys. */
  readonly tinylfu: PolicyFigures
  /** Belady's rule with TTL at this size (see `beladyHits`). */
  readonly optimal: PolicyFigures
  /** A cache without a size limit: the ceiling for any size and policy. */
  readonly compulsory: PolicyFigures
  /** `lru.hits` × cost per call; null without a cost. */
  readonly moneySaved: number | null
}

export interface ReplayOptions {
  readonly maxEntries: readonly number[]
  readonly ttls: readonly number[]
  /** Money one upstream call costs. */
  readonly costPerCall?: number | undefined
  /** What the cache stores. @default breakwater's defaults: GET and HEAD, bodies up to 1 MiB */
  readonly policy?: ReplayPolicy
  /** Called before each size × TTL is replayed. */
  readonly onProgress?:
    | ((done: number, total: number, row: { maxEntries: number; ttlMs: number }) => void)
    | undefined
}

export interface ReplaySummary {
  readonly requests: number
  /** Requests the cache could serve and store (see `cacheableOf`). */
  readonly cacheable: number
  readonly keys: number
  /** ms from the first request to the last. */
  readonly spanMs: number
  readonly rows: readonly ReplayRow[]
}

/**
 * Replays `trace` through breakwater's cache for every size × TTL, and computes beside each the
 * optimal and compulsory figures. A million requests take about a second per size × TTL.
 */
export async function replayGrid(trace: Trace, options: ReplayOptions): Promise<ReplaySummary> {
  const policy = options.policy ?? defaultReplayPolicy
  const cacheable = cacheableOf(trace, policy)
  const { lookups, positions } = lookupsOf(trace, cacheable)
  const hashes = keyHashes(trace.keys)
  let allBytes = 0
  for (const b of trace.bytes) allBytes += b
  const figures = (hits: Uint8Array, at: (i: number) => number = (i) => i): PolicyFigures =>
    figuresOf(trace, hits, at, allBytes)
  const fromLookups = (i: number) => positions[i] as number

  const rows: ReplayRow[] = []
  const total = options.ttls.length * options.maxEntries.length
  for (const ttlMs of options.ttls) {
    // The same for every size: computed once per TTL.
    const compulsory = figures(compulsoryHits(lookups, ttlMs), fromLookups)
    for (const maxEntries of options.maxEntries) {
      options.onProgress?.(rows.length, total, { maxEntries, ttlMs })
      const lru = figures(lruHits(lookups, maxEntries, ttlMs), fromLookups)
      const tinylfu = figures(
        admissionHits(lookups, hashes, maxEntries, ttlMs, 'tinylfu'),
        fromLookups,
      )
      const optimal = figures(beladyHits(lookups, maxEntries, ttlMs), fromLookups)
      const moneySaved = options.costPerCall === undefined ? null : lru.hits * options.costPerCall
      rows.push({ maxEntries, ttlMs, lru, tinylfu, optimal, compulsory, moneySaved })
    }
  }
  const last = trace.length - 1
  return {
    requests: trace.length,
    cacheable: lookups.keyIds.length,
    keys: trace.keys.length,
    spanMs: (trace.times[last] as number) - (trace.times[0] as number),
    rows,
  }
}

/** The cacheable requests as lookups, and where each sits in the trace. */
function lookupsOf(
  trace: Trace,
  cacheable: Uint8Array,
): { lookups: Lookups; positions: Int32Array } {
  let n = 0
  for (const flag of cacheable) n += flag
  const positions = new Int32Array(n)
  const keyIds = new Int32Array(n)
  const times = new Float64Array(n)
  let j = 0
  for (let i = 0; i < trace.length; i++) {
    if (cacheable[i] !== 1) continue
    positions[j] = i
    keyIds[j] = trace.keyIds[i] as number
    times[j] = trace.times[i] as number
    j++
  }
  return { lookups: { keyIds, times, keyCount: trace.keys.length }, positions }
}

/** Figures of a policy whose hit flags are indexed so that `at(i)` is the trace position. */
function figuresOf(
  trace: Trace,
  hits: Uint8Array,
  at: (i: number) => number,
  allBytes: number,
): PolicyFigures {
  let count = 0
  let hitBytes = 0
  for (let i = 0; i < hits.length; i++) {
    if (hits[i] !== 1) continue
    count++
    hitBytes += trace.bytes[at(i)] as number
  }
  return {
    hits: count,
    hitRatio: count / trace.length,
    byteHitRatio: trace.hasBytes && allBytes > 0 ? hitBytes / allBytes : null,
    upstreamCalls: trace.length - count,
  }
}
