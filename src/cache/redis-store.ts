import type KeyvRedis from '@keyv/redis'
import { type DeserializedData, Keyv, type KeyvStoreAdapter, type StoredData } from 'keyv'
import { LRUCache } from 'lru-cache'
import type { RedisConnection } from '../redis/connection.js'
import type { ResolvedRedis } from '../redis/options.js'
import { loadPeer } from '../redis/peer.js'

export interface RedisCacheOptions {
  /** In-process cache in front of Redis, or false. */
  readonly l1: ResolvedRedis['l1']
  /** Most bytes (of serialized entries) the in-process cache holds. */
  readonly maxTotalBytes: number
}

/**
 * A Keyv store over `@keyv/redis` on the instance's one connection, each operation through
 * `connection.run` (its timeout and breaker): Redis down or slow makes an operation fail at
 * once or within `redis.timeout`, never hang. Failures are thrown, not swallowed, so that the
 * cache stage counts them apart from misses. Entries expire by Redis PX, the TTL Keyv passes.
 *
 * With `l1`, serialized entries are also kept in process for a short TTL (bounded by entries
 * and bytes), so a hot key costs no round trip; what another process stores meanwhile shows up
 * here within that TTL.
 */
export class RedisCacheStore implements KeyvStoreAdapter {
  readonly opts: RedisCacheOptions
  /** Set by Keyv; unused, keys are prefixed by the `@keyv/redis` adapter. */
  namespace: string | undefined
  /**
   * Made once `@keyv/redis`, an optional peer, has loaded: imported at construction, not with
   * breakwater, and awaited before each operation's `redis.timeout` starts.
   */
  readonly #redis: Promise<KeyvRedis<string>>
  readonly #connection: RedisConnection
  readonly #l1: LRUCache<string, string> | undefined
  readonly #l1Ttl: number

  constructor(connection: RedisConnection, options: RedisCacheOptions) {
    this.opts = options
    this.#connection = connection
    this.#redis = loadPeer<{ default: typeof KeyvRedis }>('@keyv/redis').then((module) => {
      const redis = new module.default<string>(connection.client as never, {
        namespace: connection.key('cache'),
        keyPrefixSeparator: ':',
        throwOnErrors: true,
      })
      // Errors arrive as rejections (throwOnErrors); its events would only repeat them.
      redis.on('error', () => {})
      return redis
    })
    // Reported by the first operation, which awaits it; until then no one does.
    this.#redis.catch(() => {})
    const { l1 } = options
    this.#l1Ttl = l1 === false ? 0 : l1.ttl
    this.#l1 =
      l1 === false
        ? undefined
        : new LRUCache({
            max: l1.maxEntries,
            maxSize: options.maxTotalBytes,
            sizeCalculation: (value) => value.length + 1,
            ttl: l1.ttl,
          })
  }

  async get<Value>(key: string): Promise<StoredData<Value> | undefined> {
    const near = this.#l1?.get(key)
    if (near !== undefined) return near as StoredData<Value>
    const redis = await this.#redis
    const value = await this.#connection.run(() => redis.get(key))
    if (value !== undefined) this.#l1?.set(key, value)
    return value as StoredData<Value> | undefined
  }

  async set(key: string, value: string, ttl?: number): Promise<boolean> {
    // Kept near first: while Redis is down this process still reuses its own answers.
    this.#l1?.set(key, value, { ttl: Math.min(ttl ?? this.#l1Ttl, this.#l1Ttl) })
    const redis = await this.#redis
    await this.#connection.run(() => redis.set(key, value, ttl))
    return true
  }

  async delete(key: string): Promise<boolean> {
    this.#l1?.delete(key)
    const redis = await this.#redis
    return this.#connection.run(() => redis.delete(key))
  }

  async clear(): Promise<void> {
    this.#l1?.clear()
    const redis = await this.#redis
    await this.#connection.run(() => redis.clear())
  }

  /** Keyv listens for 'error'; failures are thrown to the operation that met them instead. */
  on(): this {
    return this
  }
}

/**
 * Keyv's envelope as read back. What is not one (a foreign value under our key, a truncated
 * write) becomes an envelope around the raw text, which the entry codec then refuses: the
 * cache stage reports it and treats it as a miss. JSON.parse alone would throw, and that would
 * look like Redis failing.
 */
function parseEnvelope<Value>(text: string): DeserializedData<Value> {
  try {
    const data: unknown = JSON.parse(text)
    if (typeof data === 'object' && data !== null && 'value' in data) {
      return data as DeserializedData<Value>
    }
  } catch {}
  return { value: text as Value }
}

/** The shared cache: Keyv over a `RedisCacheStore`, failures thrown to the cache stage. */
export function createRedisKeyv(connection: RedisConnection, options: RedisCacheOptions): Keyv {
  return new Keyv({
    store: new RedisCacheStore(connection, options),
    useKeyPrefix: false,
    throwOnErrors: true,
    serialize: (data) => JSON.stringify(data),
    deserialize: parseEnvelope,
  })
}
