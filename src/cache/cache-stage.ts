import type Keyv from 'keyv'
import type { Call } from '../core/call.js'
import type { StageContext } from '../core/context.js'
import { eventBase } from '../core/context.js'
import type { Outcome } from '../core/outcome.js'
import { discard } from '../core/outcome.js'
import type { Next, Stage } from '../core/stage.js'
import { captureStream } from '../http/capture-stream.js'
import { isEventStream } from '../http/content-type.js'
import { headerOf } from '../http/headers.js'
import { type EntryCodec, rawCodec } from './codec.js'
import type { CacheEntries } from './entries.js'
import type { CacheEntry } from './entry.js'
import type { StorePolicy } from './freshness.js'
import { freshnessOf, planEntry, retentionOf } from './freshness.js'
import type { ResolvedCache } from './options.js'

/** The cache stage, and how to wait for the refreshes it started in the background. */
export interface CacheStage {
  readonly stage: Stage
  readonly entries: CacheEntries
  /** Resolves once no background refresh is running. */
  close(): Promise<void>
}

/** RFC 5861 §4: the answers that stale-if-error may stand in for. */
const isServerError = (outcome: Outcome): boolean =>
  outcome.kind === 'http' && outcome.status >= 500 && outcome.status <= 504

/**
 * Serves fresh entries, serves stale ones while one background refresh runs
 * (`staleWhileRevalidate`) or while the upstream fails (`staleIfError`), and stores what may be
 * stored. The store fails open: an error reading or writing it is counted and the call goes on
 * uncached.
 */
export function createCacheStage(
  ctx: StageContext,
  cache: ResolvedCache,
  store: Keyv,
  codec: EntryCodec = rawCodec,
): CacheStage {
  const { counters, events, clock } = ctx
  const basePolicy: StorePolicy = {
    ttl: cache.ttl,
    callTtl: false,
    respectCacheControl: cache.respectCacheControl,
    shared: cache.shared,
    staleWhileRevalidate: cache.staleWhileRevalidate,
    staleIfError: cache.staleIfError,
    maxBodyBytes: cache.maxBodyBytes,
    streams: cache.streams === true,
  }
  // Coalesced callers all hand back one outcome object; it is written once, by the first.
  const written = new WeakSet<Outcome>()
  const refreshes = new Map<string, Promise<void>>()

  const failed = (call: Call, error: unknown): void => {
    counters.cacheErrors++
    if (events.wants('cacheError')) events.emit({ type: 'cacheError', ...eventBase(call), error })
  }

  const missed = (call: Call): void => {
    counters.cacheMisses++
    if (events.wants('miss')) events.emit({ type: 'miss', ...eventBase(call) })
  }

  const serveStale = (call: Call, entry: CacheEntry, reason: 'revalidate' | 'error'): Outcome => {
    counters.staleServed++
    if (events.wants('stale')) events.emit({ type: 'stale', ...eventBase(call), reason })
    return entry.outcome
  }

  const save = async (call: Call, outcome: Outcome): Promise<boolean> => {
    if (written.has(outcome)) return false
    written.add(outcome)
    const now = clock.now()
    let policy = basePolicy
    if (call.ttl !== undefined) policy = { ...policy, ttl: call.ttl, callTtl: true }
    if (call.details.headers?.has('authorization') === true)
      policy = { ...policy, authorized: true }
    const times = planEntry(outcome, policy, now)
    if (times === undefined) return false
    if (cache.storable !== undefined && !cache.storable(outcome, call.details)) return false
    let stored = outcome
    if (outcome.kind === 'value') {
      // A copy, so that a caller changing its result never changes what later callers get.
      try {
        stored = { kind: 'value', value: structuredClone(outcome.value) }
      } catch {
        return false
      }
    }
    const entry: CacheEntry = { outcome: stored, times }
    try {
      // Keyv reads a ttl of 0 as "forever"; planEntry only plans entries with a window ahead.
      const kept = await store.set(
        call.key,
        codec.encode(entry),
        Math.ceil(retentionOf(times, now)),
      )
      if (!kept) failed(call, new Error(`cache store did not keep the entry for ${call.target}`))
      return kept
    } catch (error) {
      failed(call, error)
      return false
    }
  }

  /**
   * Stores what may be stored. A live event stream (with `cache.streams`) is stored once its
   * reader has read it whole: the caller gets it as it arrives, never delayed by the cache.
   */
  const keep = async (call: Call, outcome: Outcome): Promise<Outcome> => {
    if (
      cache.streams === true &&
      outcome.kind === 'http' &&
      outcome.body instanceof ReadableStream &&
      outcome.status >= 200 &&
      outcome.status < 300 &&
      isEventStream(headerOf(outcome, 'content-type') ?? '')
    ) {
      const body = captureStream(outcome.body, cache.maxBodyBytes, async (bytes) => {
        await save(call, { ...outcome, body: bytes })
      })
      return { ...outcome, body }
    }
    await save(call, outcome)
    return outcome
  }

  /** What the store returned under the call's key as an entry; a foreign value is reported. */
  const entryOf = (call: Call, found: unknown): CacheEntry | undefined => {
    if (found === undefined) return undefined
    const entry = codec.decode(found)
    if (entry === undefined) {
      failed(call, new TypeError(`cache store holds a foreign value under ${call.key}`))
    }
    return entry
  }

  const entries: CacheEntries = {
    async fresh(call) {
      const entry = entryOf(call, await store.get(call.key))
      if (entry === undefined || freshnessOf(entry.times, clock.now()) !== 'fresh') return undefined
      written.add(entry.outcome)
      return entry.outcome
    },
    save,
  }

  const refreshOnce = async (call: Call, next: Next): Promise<void> => {
    try {
      // No caller waits for this outcome, so no caller's signal may cut it short.
      const outcome = await next({ ...call, signal: undefined })
      await save(call, outcome)
      discard(outcome)
    } catch {
      // A failed refresh leaves the stale entry in place until its windows close.
    }
  }

  const refresh = (call: Call, next: Next): void => {
    if (refreshes.has(call.key)) return
    // `finally` runs as a later reaction, so the key is always set before it is deleted.
    const running = refreshOnce(call, next).finally(() => refreshes.delete(call.key))
    refreshes.set(call.key, running)
  }

  /** Goes upstream with an entry usable on failure in hand, which it serves when that fails. */
  const withFallback = async (call: Call, next: Next, fallback: CacheEntry): Promise<Outcome> => {
    let outcome: Outcome
    try {
      outcome = await next(call)
    } catch (error) {
      // The caller's own abort is an answer the caller asked for, not a failure to hide.
      if (call.signal?.aborted === true) {
        missed(call)
        throw error
      }
      return serveStale(call, fallback, 'error')
    }
    if (isServerError(outcome)) {
      discard(outcome)
      return serveStale(call, fallback, 'error')
    }
    // Counted once the stale entry is known to be unused, so each lookup counts once.
    missed(call)
    return keep(call, outcome)
  }

  const stage: Stage = async (call, next) => {
    if (!call.cacheable) return next(call)
    let found: unknown
    try {
      found = await store.get(call.key)
    } catch (error) {
      failed(call, error)
    }
    const entry = entryOf(call, found)
    if (entry !== undefined) {
      const state = freshnessOf(entry.times, clock.now())
      if (state === 'fresh') {
        counters.cacheHits++
        if (events.wants('hit')) events.emit({ type: 'hit', ...eventBase(call) })
        return entry.outcome
      }
      if (state === 'stale') {
        refresh(call, next)
        return serveStale(call, entry, 'revalidate')
      }
      if (state === 'staleIfError') return withFallback(call, next, entry)
    }
    missed(call)
    return keep(call, await next(call))
  }

  return {
    stage,
    entries,
    async close() {
      // Calls still arriving while closing may start refreshes of their own.
      while (refreshes.size > 0) await Promise.all(refreshes.values())
    },
  }
}
