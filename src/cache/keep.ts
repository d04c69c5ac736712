import type { Call } from '../core/call.js'
import type { Clock } from '../core/clock.js'
import type { HttpOutcome, Outcome } from '../core/outcome.js'
import { captureStream } from '../http/capture-stream.js'
import { isEventStream } from '../http/content-type.js'
import { headerOf } from '../http/headers.js'
import { cloneValue } from '../http/value-copy.js'
import type { CacheEntry } from './entry.js'
import type { StorePolicy } from './freshness.js'
import { planEntry, retentionOf } from './freshness.js'
import type { ResolvedCache } from './options.js'
import type { StoreIo } from './store-io.js'

/** What the cache stores, and how. */
export interface Keeper {
  /** Stores the outcome if it may be stored; resolves true once the store kept it. */
  save(call: Call, outcome: Outcome): Promise<boolean>
  /** Stores what may be stored and hands the caller the outcome (a live stream, teed). */
  keep(call: Call, outcome: Outcome): Promise<Outcome>
  /** Marks an outcome read from the store, which is not to be written back. */
  markStored(outcome: Outcome): void
}

/** The store policy of the cache's options, before any call's own `ttl` or credentials. */
export function policyOf(cache: ResolvedCache): StorePolicy {
  return {
    ttl: cache.ttl,
    callTtl: false,
    respectCacheControl: cache.respectCacheControl,
    shared: cache.shared,
    staleWhileRevalidate: cache.staleWhileRevalidate,
    staleIfError: cache.staleIfError,
    maxBodyBytes: cache.maxBodyBytes,
    streams: cache.streams === true,
  }
}

/** The policy for one call: its own `ttl`, and whether it carried credentials. */
function callPolicy(base: StorePolicy, call: Call): StorePolicy {
  let policy = base
  if (call.ttl !== undefined) policy = { ...policy, ttl: call.ttl, callTtl: true }
  if (call.details.headers?.has('authorization') === true) policy = { ...policy, authorized: true }
  return policy
}

/** A live event stream (with `cache.streams`), stored once its reader has read it whole. */
const isLiveStream = (
  cache: ResolvedCache,
  outcome: Outcome,
): outcome is HttpOutcome & { readonly body: ReadableStream<Uint8Array> } =>
  cache.streams === true &&
  outcome.kind === 'http' &&
  outcome.body instanceof ReadableStream &&
  outcome.status >= 200 &&
  outcome.status < 300 &&
  isEventStream(headerOf(outcome, 'content-type') ?? '')

/** Plans, copies and writes the entries of what may be stored. */
export function createKeeper(cache: ResolvedCache, io: StoreIo, clock: Clock): Keeper {
  const basePolicy = policyOf(cache)
  // Coalesced callers all hand back one outcome object; it is written once, by the first.
  const written = new WeakSet<Outcome>()

  const save = async (call: Call, outcome: Outcome): Promise<boolean> => {
    if (written.has(outcome)) return false
    written.add(outcome)
    const now = clock.now()
    const times = planEntry(outcome, callPolicy(basePolicy, call), now)
    if (times === undefined) return false
    if (cache.storable !== undefined && !cache.storable(outcome, call.details)) return false
    let stored = outcome
    if (outcome.kind === 'value') {
      // A copy, so that a caller changing its result never changes what later callers get.
      const copy = cloneValue(outcome.value)
      if (copy === undefined) return false
      stored = { kind: 'value', value: copy.value }
    }
    const entry: CacheEntry = { outcome: stored, times }
    // Keyv reads a ttl of 0 as "forever"; planEntry only plans entries with a window ahead.
    const ttl = Math.ceil(retentionOf(times, now))
    const kept = await io.write(call, entry, ttl)
    if (kept) await io.tag(call, call.key, ttl)
    return kept
  }

  return {
    save,
    // The caller gets a live stream as it arrives, never delayed by the cache.
    async keep(call, outcome) {
      if (isLiveStream(cache, outcome)) {
        const body = captureStream(outcome.body, cache.maxBodyBytes, async (bytes) => {
          await save(call, { ...outcome, body: bytes })
        })
        return { ...outcome, body }
      }
      await save(call, outcome)
      return outcome
    },
    markStored: (outcome) => written.add(outcome),
  }
}
