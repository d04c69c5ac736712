/**
 * The best any cache could do on a trace, to set beside what LRU did: the compulsory-miss bound
 * (a cache without a size limit) and Belady's offline rule at a given size. An entry's TTL runs
 * from the moment it is fetched, as in breakwater's cache: a hit does not renew it, and a
 * request past it is a miss whatever the policy. Pure.
 */
import { MaxHeap } from './max-heap.js'

/** A request as the bounds see it: only its key and its time matter. */
export interface TimedRequest {
  readonly key: string
  /** ms */
  readonly t: number
}

/** Requests that a cache could serve, as parallel columns in time order. */
export interface Lookups {
  /** Dense ids, 0 … keyCount - 1. */
  readonly keyIds: Int32Array
  readonly times: Float64Array
  readonly keyCount: number
}

/** Columns for `requests`, which must be in time order. */
export function toLookups(requests: readonly TimedRequest[]): Lookups {
  const ids = new Map<string, number>()
  const keyIds = new Int32Array(requests.length)
  const times = new Float64Array(requests.length)
  requests.forEach((request, i) => {
    let id = ids.get(request.key)
    if (id === undefined) {
      id = ids.size
      ids.set(request.key, id)
    }
    keyIds[i] = id
    times[i] = request.t
  })
  return { keyIds, times, keyCount: ids.size }
}

/**
 * Which requests a cache without a size limit serves (1) or misses (0): the first request of a
 * key and each one past the TTL of the last fetch. No cache of any size or policy does better.
 */
export function compulsoryHits(lookups: Lookups, ttlMs: number): Uint8Array {
  checkTtl(ttlMs)
  const { keyIds, times, keyCount } = lookups
  const hits = new Uint8Array(keyIds.length)
  const fetchedAt = new Float64Array(keyCount).fill(Number.NEGATIVE_INFINITY)
  for (let i = 0; i < keyIds.length; i++) {
    const k = keyIds[i] as number
    const t = times[i] as number
    if (t - (fetchedAt[k] as number) < ttlMs) hits[i] = 1
    else fetchedAt[k] = t
  }
  return hits
}

/**
 * Which requests Belady's rule serves with room for `maxEntries`. On a miss with the cache full
 * it drops the entry whose next use comes last, or does not keep the new one when that is it;
 * an entry whose next use falls past its expiry is worth nothing and goes at once.
 *
 * Without a TTL this is the offline optimum (Belady, 1966). With a TTL that starts at each
 * fetch, a policy could now and then do one better by dropping an entry early so that its
 * refetch opens a later window; exhaustive search finds that in about 1 tiny random trace in
 * 300. Read it as the field's optimal reference; `compulsoryHits` is the strict ceiling.
 */
export function beladyHits(lookups: Lookups, maxEntries: number, ttlMs: number): Uint8Array {
  if (!Number.isInteger(maxEntries) || maxEntries < 1) {
    throw new RangeError(`maxEntries must be a whole number ≥ 1, got ${maxEntries}`)
  }
  checkTtl(ttlMs)
  const { keyIds, times, keyCount } = lookups
  const n = keyIds.length
  const next = nextUses(keyIds, keyCount)
  const hits = new Uint8Array(n)
  const cached = new Uint8Array(keyCount)
  const expires = new Float64Array(keyCount)
  // A key's live heap entry carries its current version; any other is stale.
  const versions = new Int32Array(keyCount)
  const heap = new MaxHeap(n)
  let size = 0
  /** The next request of i's key while an entry expiring at `until` still serves it, or -1. */
  const usefulNext = (i: number, until: number): number => {
    const j = next[i] as number
    return j !== -1 && (times[j] as number) < until ? j : -1
  }
  for (let i = 0; i < n; i++) {
    const k = keyIds[i] as number
    const t = times[i] as number
    if (cached[k] === 1) {
      cached[k] = 0
      size--
      versions[k] = (versions[k] as number) + 1
      if (t < (expires[k] as number)) {
        hits[i] = 1
        const j = usefulNext(i, expires[k] as number)
        if (j !== -1) keep(k, j, expires[k] as number)
        continue
      }
    }
    const until = t + ttlMs
    const j = usefulNext(i, until)
    if (j === -1) continue
    if (size >= maxEntries) {
      while (heap.topVersion !== versions[heap.topKey]) heap.pop()
      // Every entry held is needed before this one: keeping it would cost a sooner hit.
      if (heap.topPriority < j) continue
      const victim = heap.topKey
      heap.pop()
      cached[victim] = 0
      size--
      versions[victim] = (versions[victim] as number) + 1
    }
    keep(k, j, until)
  }
  return hits

  function keep(k: number, nextUse: number, until: number): void {
    cached[k] = 1
    expires[k] = until
    size++
    const version = (versions[k] as number) + 1
    versions[k] = version
    heap.push(nextUse, k, version)
  }
}

/** Share of `requests` (in time order) a cache without a size limit serves within `ttlMs`. */
export function compulsoryHitRatio(requests: readonly TimedRequest[], ttlMs: number): number {
  return ratioOf(compulsoryHits(toLookups(requests), ttlMs))
}

/**
 * Share of `requests` (in time order) Belady's rule serves with room for `maxEntries`, each
 * entry fresh for `ttlMs` after its fetch. For bench scenarios: the figure to set beside a
 * cache's measured hit ratio.
 *
 * @example optimalHitRatio(requests.map((r) => ({ key: r.url, t: r.at })), 1_000, 60_000)
 */
export function optimalHitRatio(
  requests: readonly TimedRequest[],
  maxEntries: number,
  ttlMs: number,
): number {
  return ratioOf(beladyHits(toLookups(requests), maxEntries, ttlMs))
}

/** For each request, the index of the next request of its key, or -1. */
function nextUses(keyIds: Int32Array, keyCount: number): Int32Array {
  const next = new Int32Array(keyIds.length)
  const seen = new Int32Array(keyCount).fill(-1)
  for (let i = keyIds.length - 1; i >= 0; i--) {
    const k = keyIds[i] as number
    next[i] = seen[k] as number
    seen[k] = i
  }
  return next
}

function ratioOf(hits: Uint8Array): number {
  if (hits.length === 0) return 0
  let sum = 0
  for (const hit of hits) sum += hit
  return sum / hits.length
}

function checkTtl(ttlMs: number): void {
  if (!(ttlMs > 0)) throw new RangeError(`ttlMs must be above 0, got ${ttlMs}`)
}
