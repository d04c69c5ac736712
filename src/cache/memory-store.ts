import { Keyv, type KeyvStoreAdapter, type StoredData } from 'keyv'
import { LRUCache } from 'lru-cache'
import type { Outcome } from '../core/outcome.js'
import { type Admission, TinyLfu } from './admission.js'
import { isEntry } from './entry.js'
import { hashKey } from './frequency-sketch.js'
import { cacheDefaults } from './options.js'
import { isVariantSet, type VariantSet } from './variant.js'

export interface MemoryKeyvOptions {
  /** Most entries kept; the least recently used goes first. */
  readonly maxEntries: number
  /** Most bytes kept, as estimated from bodies, headers and values. */
  readonly maxTotalBytes: number
  /** Largest body the cache stores; no entry may pass it by more than its headers' room. */
  readonly maxBodyBytes: number
  /** Prefix Keyv puts before every key. */
  readonly namespace: string
  /** What a full store keeps (see `Admission`). @default cacheDefaults.admission */
  readonly admission?: Admission | undefined
}

/** What lru-cache holds under TinyLFU: the value, and its key's hash, so a hit hashes nothing. */
interface Held {
  readonly data: NonNullable<unknown>
  readonly hash: number
}

/** Room for what surrounds a body: status, URL and headers (Node caps a header block at 16 KiB). */
const headroom = 32 * 1024
/** What the objects around the data cost, per entry. */
const overhead = 256

/**
 * A Keyv store over lru-cache, bounded by entries and by bytes. Keyv hands `set` its TTL as a
 * bare number, which lru-cache 11.3+ rejects (it writes a status onto its options argument), so
 * the TTL is passed on as `{ ttl }`. Under TinyLFU a new key enters a full store only if it is
 * more frequent than the least recently used entry it would push out; lru-cache keeps the
 * order and the bounds, the byte bound included (which evicts by recency alone).
 */
export class LruStore implements KeyvStoreAdapter {
  readonly opts: MemoryKeyvOptions
  /** Set by Keyv; keys arrive already prefixed with it. */
  namespace: string | undefined
  readonly #lru: LRUCache<string, NonNullable<unknown>>
  /** Undefined under plain LRU: then a value is held as is and nothing is counted. */
  readonly #policy: TinyLfu | undefined
  // A miss is most often followed by the set of its key: its hash is kept for that set.
  #missedKey: string | undefined
  #missedHash = 0

  constructor(options: MemoryKeyvOptions) {
    this.opts = options
    const maxEntrySize = Math.min(options.maxTotalBytes, options.maxBodyBytes + headroom)
    const admission = options.admission ?? cacheDefaults.admission
    this.#policy = admission === 'tinylfu' ? new TinyLfu(options.maxEntries) : undefined
    const held = this.#policy !== undefined
    this.#lru = new LRUCache({
      max: options.maxEntries,
      maxSize: options.maxTotalBytes,
      maxEntrySize,
      sizeCalculation: (value) => sizeOf(held ? (value as Held).data : value, maxEntrySize),
    })
  }

  async get<Value>(key: string): Promise<StoredData<Value> | undefined> {
    const found = this.#lru.get(key)
    const policy = this.#policy
    if (policy === undefined) return found as StoredData<Value> | undefined
    if (found === undefined) {
      this.#missedKey = key
      this.#missedHash = hashKey(key)
      policy.record(this.#missedHash)
      return undefined
    }
    // A hit costs two sketch updates, a few multiplications each, and for a sampled key (any key
    // of a small store, one in 64 of a large one) a step of the two miniatures that choose
    // between them.
    policy.record((found as Held).hash)
    return (found as Held).data as StoredData<Value>
  }

  /**
   * Resolves false when the entry was not kept (larger than one entry may be). An entry that
   * TinyLFU turns away resolves true: that is the policy at work, as an entry evicted at once
   * would be, not a failing store.
   */
  async set(key: string, value: unknown, ttl?: number): Promise<boolean> {
    const options = ttl ? { ttl } : undefined
    const policy = this.#policy
    if (policy === undefined) {
      this.#lru.set(key, value as NonNullable<unknown>, options)
      // lru-cache drops an entry over maxEntrySize without a word; Keyv passes the false on.
      return this.#lru.has(key)
    }
    const hash = key === this.#missedKey ? this.#missedHash : hashKey(key)
    this.#missedKey = undefined
    if (!this.#admits(policy, key, hash)) return true
    this.#lru.set(key, { data: value as NonNullable<unknown>, hash } satisfies Held, options)
    return this.#lru.has(key)
  }

  /** Whether a new entry for `key` may go in: room, its own old entry, or TinyLFU's yes. */
  #admits(policy: TinyLfu, key: string, hash: number): boolean {
    const lru = this.#lru
    if (lru.size < lru.max || lru.peek(key, { allowStale: true }) !== undefined) return true
    // The least recently used entry: the one lru-cache would evict for this set.
    for (const victim of lru.rkeys()) {
      const held = lru.peek(victim, { allowStale: true }) as Held | undefined
      return held === undefined || policy.admits(hash, held.hash)
    }
    return true
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
  const size = isEntry(value)
    ? outcomeSize(value.outcome)
    : isVariantSet(value)
      ? setSize(value)
      : jsonSize(value)
  // What cannot be measured (cyclic, BigInt) weighs as much as the largest entry allowed.
  return size === undefined ? unmeasurable : Math.ceil(size) + overhead
}

function setSize(set: VariantSet): number | undefined {
  let size = 0
  for (const variant of set.variants) size += (outcomeSize(variant.outcome) ?? 0) + overhead
  return size
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
