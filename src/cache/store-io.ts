import type Keyv from 'keyv'
import type { Call } from '../core/call.js'
import type { StageContext } from '../core/context.js'
import { eventBase } from '../core/context.js'
import type { EntryCodec } from './codec.js'
import { addToTags } from './commands.js'
import type { CacheEntry } from './entry.js'
import type { VariantSet } from './variant.js'

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
  /** The variants under the call's `storeKey`; rejects when the store fails. */
  lookupSet(call: Call): Promise<VariantSet | undefined>
  /** As `lookupSet`, failing open. */
  readSet(call: Call): Promise<VariantSet | undefined>
  /** As `readSet`, reporting nothing: for a write that merges into what a read already reported. */
  peekSet(call: Call): Promise<VariantSet | undefined>
  /** Writes the variants under the call's `storeKey` for `ttl` ms. Never rejects. */
  writeSet(call: Call, set: VariantSet, ttl: number): Promise<boolean>
  /** Indexes `key`, kept `ttl` ms, under the call's tags. Never rejects; failures are reported. */
  tag(call: Call, key: string, ttl: number): Promise<void>
  /** Deletes what is stored under `key`. Never rejects; a store failure is reported. */
  remove(call: Call, key: string): Promise<void>
}

/**
 * Reads and writes entries through the codec. Every failure (a store that throws, refuses an
 * entry or holds a foreign value) is counted in `cacheErrors` and sent as a `cacheError` event,
 * and the call goes on uncached.
 *
 * With `shareReads`, for a store a round trip away, the `read`s and `readSet`s of one key in
 * flight at once share one: a burst of callers asking a cold key costs Redis one GET, not one per caller. A
 * write or removal of the key ends the sharing, so no read that starts after it gets an older answer.
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

  /** What the store returned under `key`, decoded; a foreign value is reported. */
  const decoded = <T>(call: Call, key: string, found: unknown, decode: (raw: unknown) => T) => {
    if (found === undefined) return undefined
    const value = decode(found)
    if (value === undefined) {
      failed(call, new TypeError(`cache store holds a foreign value under ${key}`))
    }
    return value
  }
  const entryOf = (call: Call, found: unknown): CacheEntry | undefined =>
    decoded(call, call.key, found, codec.decode)
  const setOf = (call: Call, found: unknown): VariantSet | undefined =>
    decoded(call, call.storeKey, found, codec.decodeSet)

  /** What is stored under `key`, read through the shared reads; a failing store reads as none. */
  const readOpen = async (call: Call, key: string): Promise<unknown> => {
    try {
      return await get(key)
    } catch (error) {
      failed(call, error)
      return undefined
    }
  }

  const written = async (call: Call, key: string, value: unknown, ttl: number) => {
    // A read that began before this write may return the old value: later reads go on their own.
    reading.delete(key)
    try {
      const kept = await store.set(key, value, ttl)
      if (!kept) failed(call, new CacheEntryNotKeptError(call))
      return kept
    } catch (error) {
      failed(call, error)
      return false
    }
  }

  return {
    lookupSet: async (call) => setOf(call, await store.get(call.storeKey)),
    readSet: async (call) => setOf(call, await readOpen(call, call.storeKey)),
    async peekSet(call) {
      try {
        return codec.decodeSet(await store.get(call.storeKey))
      } catch {
        return undefined
      }
    },
    writeSet: (call, set, ttl) => written(call, call.storeKey, codec.encodeSet(set), ttl),
    async tag(call, key, ttl) {
      if (call.tags.length === 0) return
      try {
        await addToTags(store, call.tags, key, ctx.clock.now(), ttl)
      } catch (error) {
        failed(call, error)
      }
    },
    async remove(call, key) {
      reading.delete(key)
      try {
        await store.delete(key)
      } catch (error) {
        failed(call, error)
      }
    },
    lookup: async (call) => entryOf(call, await store.get(call.key)),
    read: async (call) => entryOf(call, await readOpen(call, call.key)),
    write: (call, entry, ttl) => written(call, call.key, codec.encode(entry), ttl),
  }
}
