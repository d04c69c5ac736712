import type { Clock } from '../clock.js'
import type {
  Acquired,
  BucketLowering,
  BucketRequest,
  BucketSpec,
  BucketStore,
  BucketTarget,
  Reservation,
} from '../ratelimit/bucket-store.js'
import { MemoryBucketStore } from '../ratelimit/memory-bucket-store.js'
import { probeAfter, type RedisConnection } from './connection.js'
import { RedisBucketStore } from './redis-bucket-store.js'
import type { ResolvedRedis } from './redis-options.js'

export interface FallbackBucketOptions {
  /** `'fallback'`: decide on the local share; `'reject'`: refuse while the shared store fails. */
  readonly onError: 'fallback' | 'reject'
  /** Share of each bucket's capacity and refill the local buckets hold, in (0, 1]. */
  readonly localShare: number
}

/**
 * Shared buckets that degrade to local ones: every decision goes to the shared store first,
 * and one it fails (Redis down, slow, or answering an error) is decided by a local store whose
 * buckets hold `localShare` of each budget, so that N processes on their own still keep the
 * fleet within the quota. With `onError: 'reject'` such a call is refused instead. The answer
 * carries the error as `degraded` for the stage to report; nothing is thrown for Redis' sake.
 *
 * A Redis marked down fails each operation at once, and one a second probes it: the first
 * decision after Redis returns uses the shared state again. The two stores do not know of each
 * other's spending across a switch, which the local share bounds.
 *
 * A reservation is refunded where it was made. A 429 pause, a server's remaining and an
 * adjustment go to the shared store, and to the local one as well, so that a fallback starts
 * from what the server said last (an adjustment only when the shared store failed it: it
 * follows the tokens).
 */
export class FallbackBucketStore implements BucketStore {
  readonly #shared: BucketStore
  readonly #local: BucketStore
  readonly #options: FallbackBucketOptions
  // Buckets are fixed at construction: one scaled copy each, dropped with the bucket.
  readonly #scaled = new WeakMap<BucketSpec, BucketSpec>()
  readonly #localReservations = new WeakSet<Reservation>()

  constructor(shared: BucketStore, local: BucketStore, options: FallbackBucketOptions) {
    this.#shared = shared
    this.#local = local
    this.#options = options
  }

  async acquire(requests: readonly BucketRequest[], maxWait: number): Promise<Acquired> {
    try {
      return await this.#shared.acquire(requests, maxWait)
    } catch (error) {
      if (this.#options.onError === 'reject') {
        // The connection probes a Redis marked down no sooner: an earlier retry meets the same.
        const bucket = (requests[0] as BucketRequest).bucket.name
        return {
          granted: false,
          retryAfter: probeAfter,
          bucket,
          exceedsCapacity: false,
          degraded: { by: 'reject', error },
        }
      }
      // A call dearer than a local share (but not than the bucket) takes a whole full local
      // bucket rather than being refused for good for as long as Redis is away.
      const local = await this.#local.acquire(
        requests.map((r) => {
          const bucket = this.#scale(r.bucket)
          const cost = r.cost <= r.bucket.capacity ? Math.min(r.cost, bucket.capacity) : r.cost
          return { bucket, key: r.key, cost }
        }),
        maxWait,
      )
      if (!local.granted) return { ...local, degraded: { by: 'fallback', error } }
      // Handed back with the caller's own buckets; the local store finds its own by name.
      const parts = local.reservation.parts.map((p, i) => ({
        ...p,
        bucket: (requests[i] as BucketRequest).bucket,
      }))
      const reservation = { parts }
      this.#localReservations.add(reservation)
      return { ...local, reservation, degraded: { by: 'fallback', error } }
    }
  }

  async refund(reservation: Reservation): Promise<void> {
    if (this.#localReservations.has(reservation)) {
      const parts = reservation.parts.map((p) => ({ ...p, bucket: this.#scale(p.bucket) }))
      return this.#local.refund({ parts })
    }
    // Unrefunded tokens come back by themselves within one refill.
    await this.#shared.refund(reservation).catch(() => {})
  }

  async adjust(target: BucketTarget, delta: number): Promise<void> {
    try {
      await this.#shared.adjust(target, delta)
    } catch {
      await this.#local.adjust(this.#localTarget(target), delta)
    }
  }

  async pause(targets: readonly BucketTarget[], ms: number): Promise<void> {
    await Promise.all([
      this.#shared.pause(targets, ms).catch(() => {}),
      this.#local.pause(
        targets.map((t) => this.#localTarget(t)),
        ms,
      ),
    ])
  }

  async lower(updates: readonly BucketLowering[], at: number): Promise<void> {
    const { localShare } = this.#options
    const local = updates.map((u) => ({
      ...this.#localTarget(u),
      remaining: u.remaining * localShare,
    }))
    await Promise.all([
      this.#shared.lower(updates, at).catch(() => {}),
      this.#local.lower(local, at),
    ])
  }

  async balance(target: BucketTarget): Promise<number> {
    try {
      return await this.#shared.balance(target)
    } catch {
      return this.#local.balance(this.#localTarget(target))
    }
  }

  async close(): Promise<void> {
    await Promise.all([this.#shared.close(), this.#local.close()])
  }

  #localTarget(target: BucketTarget): BucketTarget {
    return { bucket: this.#scale(target.bucket), key: target.key }
  }

  #scale(bucket: BucketSpec): BucketSpec {
    let scaled = this.#scaled.get(bucket)
    if (scaled === undefined) {
      const { localShare } = this.#options
      scaled = {
        name: bucket.name,
        capacity: bucket.capacity * localShare,
        refillPerSecond: bucket.refillPerSecond * localShare,
      }
      this.#scaled.set(bucket, scaled)
    }
    return scaled
  }
}

/**
 * The buckets of an instance in distributed mode: in Redis on the instance's connection,
 * falling back as `redis.onError` and `redis.localShare` say while Redis fails.
 */
export function createSharedBucketStore(
  connection: RedisConnection,
  options: ResolvedRedis,
  clock: Clock,
): BucketStore {
  return new FallbackBucketStore(
    new RedisBucketStore(connection),
    new MemoryBucketStore({ clock }),
    { onError: options.onError, localShare: options.localShare },
  )
}
