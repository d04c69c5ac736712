import type Keyv from 'keyv'
import { createBreakerStage } from './breaker/breaker-stage.js'
import { type CacheEntries, createCacheStage } from './cache/cache-stage.js'
import { jsonCodec, rawCodec } from './cache/codec.js'
import { createMemoryKeyv } from './cache/memory-store.js'
import { createRedisKeyv } from './cache/redis-store.js'
import { createCoalesceStage } from './coalesce/coalesce-stage.js'
import { createLeaseStage } from './coalesce/redis-lease.js'
import { createConcurrencyStage } from './concurrency/concurrency-stage.js'
import type { Call } from './core/call.js'
import type { StageContext } from './core/context.js'
import { Events } from './core/events.js'
import type { Outcome } from './core/outcome.js'
import { compose, type Next, type Stage } from './core/stage.js'
import { Counters, type Stats } from './core/stats.js'
import { createSharedRecordStore } from './idempotency/fallback-record-store.js'
import { createIdempotencyStage } from './idempotency/idempotency-stage.js'
import type { ResolvedOptions } from './options.js'
import { createSharedBucketStore } from './ratelimit/fallback-bucket-store.js'
import { createRateLimitStage } from './ratelimit/ratelimit-stage.js'
import { RedisConnection } from './redis/connection.js'
import { createRetryStage } from './retry/retry-stage.js'
import { createTimeoutStage } from './timeout/timeout-stage.js'

/** One configured pipeline, shared by a front door and all of its calls. */
export interface Instance {
  readonly options: ResolvedOptions
  readonly context: StageContext
  /** Sends a call down the whole chain. */
  run(call: Call): Promise<Outcome>
  /** The same chain without the retry stage, for calls that asked `retry: false`. */
  runOnce(call: Call): Promise<Outcome>
  stats(): Stats
  /** Adds `delta` tokens to bucket `name` under `key` (negative: a debt). */
  adjust(name: string, key: string, delta: number): void
  /** Waits for background refreshes, then releases the store and what `onClose` names. */
  close(): Promise<void>
  readonly closed: boolean
}

/**
 * Composes the stages once, outermost first: cache → coalesce (→ Redis lease) → idempotency →
 * breaker → retry → rate limit → concurrency → timeout → transport. A part turned off is absent,
 * so a cache hit touches nothing below the cache.
 */
export function createInstance(
  options: ResolvedOptions,
  makeTransport: (context: StageContext) => Next,
  onClose: () => Promise<void> = async () => {},
): Instance {
  const context: StageContext = {
    counters: new Counters(),
    events: new Events(options.onEvent),
    clock: options.clock,
  }
  const transport = makeTransport(context)
  const above: Stage[] = []
  const below: Stage[] = []
  // Distributed mode: one connection serves every shared part; without it all is in memory.
  const redis = options.redis
    ? new RedisConnection(options.redis, options.namespace, context)
    : undefined
  let store: Keyv | undefined
  let ownsStore = false
  let closeCache = async () => {}
  let entries: CacheEntries | undefined
  if (options.cache) {
    const { maxEntries, maxTotalBytes, maxBodyBytes } = options.cache
    ownsStore = options.cache.store === undefined && redis === undefined
    store =
      options.cache.store ??
      (redis && options.redis
        ? createRedisKeyv(redis, { l1: options.redis.l1, maxTotalBytes })
        : createMemoryKeyv({
            maxEntries,
            maxTotalBytes,
            maxBodyBytes,
            namespace: options.namespace,
          }))
    const cache = createCacheStage(context, options.cache, store, ownsStore ? rawCodec : jsonCodec)
    above.push(cache.stage)
    closeCache = cache.close
    entries = cache.entries
  }
  let inFlight = () => 0
  let closeLease = async () => {}
  if (options.coalesce) {
    const coalesce = createCoalesceStage(context)
    above.push(coalesce.stage)
    inFlight = coalesce.inFlight
    // Below the in-process single flight: one lease attempt per key and process.
    if (redis && entries) {
      const lease = createLeaseStage(context, redis, entries)
      above.push(lease.stage)
      closeLease = lease.close
    }
  }
  let closeIdempotency = async () => {}
  if (options.idempotency) {
    // Shared records in distributed mode; the stage makes (and closes) in-memory ones itself.
    const records = redis && createSharedRecordStore(redis, options.idempotency.maxRecords)
    const idempotency = createIdempotencyStage(context, options.idempotency, records)
    above.push(idempotency.stage)
    closeIdempotency = async () => {
      await idempotency.close()
      await records?.close()
    }
  }
  if (options.breaker) above.push(createBreakerStage(context, options.breaker))
  let adjust: Instance['adjust'] = (name) => {
    throw new RangeError(`adjust: no rate-limit bucket is named ${JSON.stringify(name)}`)
  }
  let closeRateLimit = async () => {}
  if (options.rateLimit.length > 0) {
    // Shared buckets in distributed mode; the stage makes (and closes) in-memory ones itself.
    const buckets =
      redis && options.redis && createSharedBucketStore(redis, options.redis, context.clock)
    const rateLimit = createRateLimitStage(context, options.rateLimit, buckets || undefined)
    below.push(rateLimit.stage)
    adjust = rateLimit.adjust
    closeRateLimit = async () => {
      await rateLimit.close()
      if (buckets) await buckets.close()
    }
  }
  if (options.concurrency) below.push(createConcurrencyStage(context, options.concurrency))
  below.push(createTimeoutStage(context))
  const retry = options.retry ? [createRetryStage(context, options.retry)] : []
  const run = compose([...above, ...retry, ...below], transport)
  const runOnce = retry.length === 0 ? run : compose([...above, ...below], transport)
  let closed = false
  return {
    options,
    context,
    run,
    runOnce,
    stats: () => context.counters.snapshot(inFlight()),
    adjust: (name, key, delta) => adjust(name, key, delta),
    get closed() {
      return closed
    },
    async close() {
      if (closed) return
      closed = true
      await Promise.all([closeCache(), closeIdempotency(), closeRateLimit()])
      // After the refreshes, which hold leases too; before the connection it releases them on.
      await closeLease()
      if (ownsStore) await store?.clear()
      await redis?.close()
      await onClose()
    },
  }
}
