/**
 * LRU with a TTL from each fetch, as breakwater's cache stage and memory store serve it, two
 * ways: `lruHits`, pure and over typed arrays, which the replay grid runs (a million requests
 * in tens of ms), and `replayLru`, which sends every request through the real cache stage on a
 * simulated clock (a few µs each) and is the reference the tests hold `lruHits` to, request by
 * request.
 */
import { KeyvHooks } from 'keyv'
import { createCacheStage } from '../cache/cache-stage.js'
import { createMemoryKeyv } from '../cache/memory-store.js'
import type { ResolvedCache } from '../cache/options.js'
import { type Call, createCall } from '../core/call.js'
import { systemTimers } from '../core/clock.js'
import type { StageContext } from '../core/context.js'
import { Events } from '../core/events.js'
import type { HttpOutcome } from '../core/outcome.js'
import type { Next } from '../core/stage.js'
import { Counters } from '../core/stats.js'
import { defaults } from '../options.js'
import type { Lookups } from './optimal.js'
import type { Trace } from './trace.js'

/** What the cache would store, as breakwater's defaults have it. */
export interface ReplayPolicy {
  /** Methods the cache serves; upper case. */
  readonly methods: ReadonlySet<string>
  /** Larger answers pass through uncached. */
  readonly maxBodyBytes: number
}

export const defaultReplayPolicy: ReplayPolicy = {
  methods: new Set(defaults.cache.methods),
  maxBodyBytes: defaults.cache.maxBodyBytes,
}

/**
 * Which requests the cache could serve and store (1): a cacheable method, an answer that is a
 * 2xx other than 206 (or a 304, whose resource is cacheable: the client already held its body),
 * and no larger than `maxBodyBytes`. The others are misses for every policy and never enter
 * the cache, so that every bound below stays a true bound.
 */
export function cacheableOf(trace: Trace, policy: ReplayPolicy = defaultReplayPolicy): Uint8Array {
  const byMethod = trace.methods.map((m) => policy.methods.has(m))
  const flags = new Uint8Array(trace.length)
  for (let i = 0; i < trace.length; i++) {
    const status = trace.statuses[i] as number
    const storable =
      status === 0 || status === 304 || (status >= 200 && status <= 299 && status !== 206)
    flags[i] =
      byMethod[trace.methodIds[i] as number] === true &&
      storable &&
      (trace.bytes[i] as number) <= policy.maxBodyBytes
        ? 1
        : 0
  }
  return flags
}

/**
 * Which of the `lookups` (the cacheable requests) an LRU cache of `maxEntries` entries serves
 * (1), each entry fresh for `ttlMs` after its fetch. A hit moves the entry to the front without
 * renewing it; an expired entry is refetched in place; a new one past the limit drops the least
 * recently used. Key ids are dense, so the recency list lives in two Int32Arrays indexed by
 * them: no object, map or promise per request.
 */
export function lruHits(lookups: Lookups, maxEntries: number, ttlMs: number): Uint8Array {
  if (!Number.isInteger(maxEntries) || maxEntries < 1) {
    throw new RangeError(`maxEntries must be a whole number ≥ 1, got ${maxEntries}`)
  }
  if (!(ttlMs > 0)) throw new RangeError(`ttlMs must be above 0, got ${ttlMs}`)
  const { keyIds, times, keyCount } = lookups
  const hits = new Uint8Array(keyIds.length)
  const cached = new Uint8Array(keyCount)
  const expires = new Float64Array(keyCount)
  // A circular list through key ids; slot keyCount is its head: next is the most recent.
  const head = keyCount
  const newer = new Int32Array(keyCount + 1).fill(head)
  const older = new Int32Array(keyCount + 1).fill(head)
  let size = 0
  for (let i = 0; i < keyIds.length; i++) {
    const k = keyIds[i] as number
    const t = times[i] as number
    if (cached[k] === 1) {
      // Unlink, to link again at the front.
      newer[older[k] as number] = newer[k] as number
      older[newer[k] as number] = older[k] as number
      if (t < (expires[k] as number)) hits[i] = 1
      else expires[k] = t + ttlMs
    } else {
      cached[k] = 1
      expires[k] = t + ttlMs
      size++
    }
    const first = newer[head] as number
    newer[k] = first
    older[k] = head
    older[first] = k
    newer[head] = k
    if (size > maxEntries) {
      const last = older[head] as number
      older[head] = older[last] as number
      newer[older[last] as number] = head
      cached[last] = 0
      size--
    }
  }
  return hits
}

/**
 * Which requests (1) the cache stage served from an in-memory store of `maxEntries` entries,
 * fresh for `ttlMs` after each fetch. The upstream answers at once with a body of the recorded
 * size, so requests of the same ms are served in order, as one at a time.
 */
export async function replayLru(
  trace: Trace,
  cacheable: Uint8Array,
  maxEntries: number,
  ttlMs: number,
  policy: ReplayPolicy = defaultReplayPolicy,
): Promise<Uint8Array> {
  const time = { now: 0 }
  const ctx: StageContext = {
    counters: new Counters(),
    events: new Events(undefined),
    clock: { now: () => time.now },
    timers: systemTimers,
  }
  const settings: ResolvedCache = {
    ...defaults.cache,
    ttl: ttlMs,
    maxEntries,
    maxBodyBytes: policy.maxBodyBytes,
    // Bounded by entries alone, as the optimal policy it is compared with.
    maxTotalBytes: Number.MAX_SAFE_INTEGER,
    methods: policy.methods,
    keyHeaders: [],
    store: undefined,
    shared: false,
  }
  const store = createMemoryKeyv({
    maxEntries,
    maxTotalBytes: settings.maxTotalBytes,
    maxBodyBytes: policy.maxBodyBytes,
    namespace: 'replay',
    // The reference for plain LRU: the store's TinyLFU admission is the admission replay's.
    admission: 'lru',
  })
  // Keyv stamps `expires` with Date.now() and lru-cache ages entries on performance.now(), both
  // real time, in which a replay takes seconds. The stage reads freshness off the simulated
  // clock; with no store TTL an expired entry is found, judged expired and overwritten in
  // place, which leaves LRU order and hits just as an expiring store would.
  store.hooks.addHandler(KeyvHooks.PRE_SET, (data: { ttl?: number | undefined }) => {
    data.ttl = undefined
  })
  const { stage, close } = createCacheStage(ctx, settings, store)

  // Every body is a view of one buffer: its length is what the store measures.
  const buffer = new Uint8Array(policy.maxBodyBytes)
  let bytes = 0
  let fetched = false
  const next: Next = async (call) => {
    fetched = true
    const outcome: HttpOutcome = {
      kind: 'http',
      status: 200,
      statusText: 'OK',
      headers: [],
      body: buffer.subarray(0, Math.min(bytes, buffer.length)),
      url: call.url,
    }
    return outcome
  }
  const hits = new Uint8Array(trace.length)
  for (let i = 0; i < trace.length; i++) {
    time.now = trace.times[i] as number
    bytes = trace.bytes[i] as number
    fetched = false
    const key = trace.keys[trace.keyIds[i] as number] as string
    await stage(
      callFor(key, trace.methods[trace.methodIds[i] as number] as string, cacheable[i] === 1),
      next,
    )
    if (!fetched) hits[i] = 1
  }
  await close()
  return hits
}

// One empty header list for every replayed call: the replay keys by its own key, never by them.
const noHeaders = new Headers()

function callFor(key: string, method: string, cacheable: boolean): Call {
  return createCall({
    kind: 'http',
    key,
    method,
    url: key,
    origin: 'replay',
    target: key,
    headers: noHeaders,
    cacheable,
  })
}
