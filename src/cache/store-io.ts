import type Keyv from 'keyv'
import type { Call } from '../core/call.js'
import type { StageContext } from '../core/context.js'
import { eventBase } from '../core/context.js'
import type { EntryCodec } from './codec.js'
import type { CacheEntry } from './entry.js'

/**
 * The store answered a write with `false`: the entry was not kept (a full Redis, a store that
 * refuses the size). Only reported in `cacheError` events, never thrown at a caller.
 */
export class CacheEntryNotKeptError extends Error {
  override name = 'CacheEntryNotKeptError'
  /** The cache key the entry was written under. */
  readonly key: string

  constructor(call: Call) {
    super(`cache store did not keep the entry for ${call.target}`)
    this.key = call.key
  }
}

/** The cache's reads and writes of its store, with what a failure of either costs. */
export interface StoreIo {
  /** The entry under the call's key; rejects when the store fails. A foreign value is reported. */
  lookup(call: Call): Promise<CacheEntry | undefined>
  /** As `lookup`, failing open: a store that fails is reported and reads as nothing. */
  read(call: Call): Promise<CacheEntry | undefined>
  /** Writes the entry for `ttl` ms; true once the store kept it. Never rejects. */
  write(call: Call, entry: CacheEntry, ttl: number): Promise<boolean>
}

/**
 * Reads and writes entries through the codec. Every failure (a store that throws, refuses an
 * entry or holds a foreign value) is counted in `cacheErrors` and sent as a `cacheError` event,
 * and the call goes on uncached.
 *
 * With `shareReads`, for a store a round trip away, the `read`s of one key in flight at once
 * share one: a burst of callers asking a cold key costs Redis one GET, not one per caller. A
 * write of the key ends the sharing, so no read that starts after it gets an older answer.
 * `lookup` (the lease's waiters) always reads for itself: what it reads must be newer than
 * what it read of the lease.
 */
export function createStoreIo(
  ctx: StageContext,
  store: Keyv,
  codec: EntryCodec,
  shareReads = false,
): StoreIo {
  const { counters, events } = ctx
  const reading = new Map<string, Promise<unknown>>()

  const get = (key: string): Promise<unknown> => {
    if (!shareReads) return store.get(key)
    const inFlight = reading.get(key)
    if (inFlight !== undefined) return inFlight
    const started: Promise<unknown> = store.get(key)
    reading.set(key, started)
    const forget = () => {
      if (reading.get(key) === started) reading.delete(key)
    }
    started.then(forget, forget)
    return started
  }

  const failed = (call: Call, error: unknown): void => {
    counters.cacheErrors++
    if (events.wants('cacheError')) events.emit({ type: 'cacheError', ...eventBase(call), error })
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

  return {
    lookup: async (call) => entryOf(call, await store.get(call.key)),
    async read(call) {
      let found: unknown
      try {
        found = await get(call.key)
      } catch (error) {
        failed(call, error)
      }
      return entryOf(call, found)
    },
    async write(call, entry, ttl) {
      reading.delete(call.key)
      try {
        const kept = await store.set(call.key, codec.encode(entry), ttl)
        if (!kept) failed(call, new CacheEntryNotKeptError(call))
        return kept
      } catch (error) {
        failed(call, error)
        return false
      }
    },
  }
}
