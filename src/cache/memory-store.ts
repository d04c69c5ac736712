import { Keyv, type KeyvStoreAdapter, type StoredData } from 'keyv'
import { LRUCache } from 'lru-cache'
import type { Outcome } from '../core/outcome.js'
import { isEntry } from './entry.js'

export interface MemoryKeyvOptions {
  /** Most entries kept; the least recently used goes first. */
  readonly maxEntries: number
  /** Most bytes kept, as estimated from bodies, headers and values. */
  readonly maxTotalBytes: number
  /** Largest body the cache stores; no entry may pass it by more than its headers' room. */
  readonly maxBodyBytes: number
  /** Prefix Keyv puts before every key. */
  readonly namespace: string
}

/** Room for what surrounds a body: status, URL and headers (Node caps a header block at 16 KiB). */
const headroom = 32 * 1024
/** What the objects around the data cost, per entry. */
const overhead = 256

/**
 * A Keyv store over lru-cache, bounded by entries and by bytes. Keyv hands `set` its TTL as a
 * bare number, which lru-cache 11.3+ rejects (it writes a status onto its options argument), so
 * the TTL is passed on as `{ ttl }`.
 */
export class LruStore implements KeyvStoreAdapter {
  readonly opts: MemoryKeyvOptions
  /** Set by Keyv; keys arrive already prefixed with it. */
  namespace: string | undefined
  readonly #lru: LRUCache<string, NonNullable<unknown>>

  constructor(options: MemoryKeyvOptions) {
    this.opts = options
    const maxEntrySize = Math.min(options.maxTotalBytes, options.maxBodyBytes + headroom)
    this.#lru = new LRUCache({
      max: options.maxEntries,
      maxSize: options.maxTotalBytes,
      maxEntrySize,
      sizeCalculation: (value) => sizeOf(value, maxEntrySize),
    })
  }

  async get<Value>(key: string): Promise<StoredData<Value> | undefined> {
    return this.#lru.get(key) as StoredData<Value> | undefined
  }

  /** Resolves false when the entry was not kept (larger than one entry may be). */
  async set(key: string, value: unknown, ttl?: number): Promise<boolean> {
    this.#lru.set(key, value as NonNullable<unknown>, ttl ? { ttl } : undefined)
    // lru-cache drops an entry over maxEntrySize without a word; Keyv passes the false on.
    return this.#lru.has(key)
  }

  async delete(key: string): Promise<boolean> {
    return this.#lru.delete(key)
  }

  async clear(): Promise<void> {
    this.#lru.clear()
  }

  async has(key: string): Promise<boolean> {
    return this.#lru.has(key)
  }

  /** Keyv listens for 'error'; nothing here fails apart from the call that it fails. */
  on(): this {
    return this
  }
}

/**
 * A Keyv over an `LruStore` that keeps raw objects: no serialization, so a hit costs no parsing
 * and hands back the very entry that was stored.
 */
export function createMemoryKeyv(options: MemoryKeyvOptions): Keyv {
  const keyv = new Keyv({ store: new LruStore(options), namespace: options.namespace })
  // Set here rather than as `serialize: undefined` in the options, which the option type forbids
  // under exactOptionalPropertyTypes; Keyv then stores its `{ value, expires }` envelope as is.
  keyv.serialize = undefined
  keyv.deserialize = undefined
  return keyv
}

/** Estimated bytes of what Keyv stored: its envelope around an entry or any other value. */
function sizeOf(stored: unknown, unmeasurable: number): number {
  const value =
    typeof stored === 'object' && stored !== null && 'value' in stored ? stored.value : stored
  const size = isEntry(value) ? outcomeSize(value.outcome) : jsonSize(value)
  // What cannot be measured (cyclic, BigInt) weighs as much as the largest entry allowed.
  return size === undefined ? unmeasurable : Math.ceil(size) + overhead
}

function outcomeSize(outcome: Outcome): number | undefined {
  if (outcome.kind === 'value') return jsonSize(outcome.value)
  let size = outcome.url.length + outcome.statusText.length
  if (outcome.body instanceof Uint8Array) size += outcome.body.byteLength
  for (const [name, value] of outcome.headers) size += name.length + value.length + 4
  return size
}

function jsonSize(value: unknown): number | undefined {
  try {
    return JSON.stringify(value)?.length ?? 0
  } catch {
    return undefined
  }
}
