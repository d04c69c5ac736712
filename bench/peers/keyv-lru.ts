import type { KeyvStoreAdapter, StoredData } from 'keyv'
import { LRUCache } from 'lru-cache'

/**
 * A Keyv store over lru-cache holding at most `max` entries, least recently used out first: the
 * store cache-manager users pick for a bounded memory cache. It exists because Keyv hands `set`
 * its TTL as a bare number, which lru-cache 11.3+ rejects (it writes a status onto its options
 * argument), so `new Keyv({ store: new LRUCache(...) })` fails every write that has a TTL.
 */
export class KeyvLru implements KeyvStoreAdapter {
  readonly opts: { readonly max: number }
  /** Set by Keyv; keys arrive already prefixed with it. */
  namespace: string | undefined
  readonly #lru: LRUCache<string, NonNullable<unknown>>

  constructor(max: number) {
    this.opts = { max }
    this.#lru = new LRUCache({ max })
  }

  async get<Value>(key: string): Promise<StoredData<Value> | undefined> {
    return this.#lru.get(key) as StoredData<Value> | undefined
  }

  async set(key: string, value: unknown, ttl?: number): Promise<boolean> {
    this.#lru.set(key, value as NonNullable<unknown>, ttl ? { ttl } : undefined)
    return true
  }

  async delete(key: string): Promise<boolean> {
    return this.#lru.delete(key)
  }

  async clear(): Promise<void> {
    this.#lru.clear()
  }

  /** Keyv's store contract asks for event listeners; this store never emits. */
  on(): this {
    return this
  }
}
