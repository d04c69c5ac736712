import type { Clock } from '../core/clock.js'
import { probeAfter, type RedisConnection } from '../redis/connection.js'
import type { ResolvedRedis } from '../redis/options.js'
import type {
  Acquired,
  BucketLowering,
  BucketRequest,
  BucketSpec,
  BucketStore,
  BucketTarget,
  PartitionSpent,
  Reservation,
} from './bucket-store.js'
import { MemoryBucketStore } from './memory-bucket-store.js'
import { RedisBucketStore } from './redis-bucket-store.js'

export interface FallbackBucketOptions {
  /** `'fallback'`: decide on the local share; `'reject'`: refuse while the shared store fails. */
  readonly onError: 'fallback' | 'reject'
  /** Share of each bucket's capacity and refill the local buckets hold, in (0, 1]. */
  readonly localShare: number
}

// Partitions owed to Redis past which a handover sends every partition the local share holds:
// the list of which ones is then dropped rather than grown without bound.
const maxOwed = 100_000

/** What the local share spent that Redis does not know of. */
interface Owed {
  /** By bucket name, then partition key: the bucket as the caller gave it. */
  readonly buckets: Map<string, Map<string, BucketSpec>>
  count: number
  /** The list grew past `maxOwed` and was dropped: every partition held is owed. */
  readonly all: boolean
}

/**
 * Shared buckets that degrade to local ones: every decision goes to the shared store first,
 * and one it fails (Redis down, slow, or answering an error) is decided by a local store whose
 * buckets hold `localShare` of each budget, so that N processes on their own still keep the
 * fleet within the quota. With `onError: 'reject'` such a call is refused instead. The answer
 * carries the error as `degraded` for the stage to report; nothing is thrown for Redis' sake.
 *
 * Neither side of a switch starts fuller than the other left the budget, or the server would
 * see both spend it at once:
 * - Redis → local: every decision Redis makes says how spent its buckets are after it (their
 *   queue of granted starts included), and the local share is kept at least that spent. A
 *   scaled bucket refills from empty in the time the whole one does, so "as spent" is the same
 *   number of ms on both sides. What other processes spent after this one's last decision on a
 *   partition is not seen: there the local share bounds the excess, as before.
 * - local → Redis: the partitions the local share decided (or paused, or lowered) are owed to
 *   Redis. While any are, each decision first hands them over, making Redis at least as spent
 *   as the local share left them, and only then asks Redis; a handover that fails means Redis
 *   is still away. The first handover asks a PING, so a Redis marked down costs nothing more.
 *
 * A reservation is refunded where it was made. A 429 pause, a server's remaining and an
 * adjustment go to the shared store, and to the local one as well, so that a fallback starts
 * from what the server said last (an adjustment only when the shared store failed it: it
 * follows the tokens).
 */
export class FallbackBucketStore implements BucketStore {
  readonly #shared: RedisBucketStore
  readonly #local: MemoryBucketStore
  readonly #options: FallbackBucketOptions
  // Buckets are fixed at construction: one scaled copy each, dropped with the bucket.
  readonly #scaled = new WeakMap<BucketSpec, BucketSpec>()
  readonly #localReservations = new WeakSet<Reservation>()
  /** Partitions the local share spent that Redis does not know of, by bucket name and key. */
  #owed: Owed = { buckets: new Map(), count: 0, all: false }
  /** Set from a failed shared operation until Redis has taken over again. */
  #switched = false
  /** Shared operations failed so far: a handover ends the switch only if none failed meanwhile. */
  #failures = 0
  #handover: Promise<void> | undefined

  constructor(shared: RedisBucketStore, local: MemoryBucketStore, options: FallbackBucketOptions) {
    this.#shared = shared
    this.#local = local
    this.#options = options
  }

  async acquire(requests: readonly BucketRequest[], maxWait: number): Promise<Acquired> {
    let acquired: Acquired
    try {
      if (this.#switched) await this.#handOver()
      acquired = await this.#shared.acquire(requests, maxWait)
    } catch (error) {
      this.#failed()
      return this.#decideLocally(requests, maxWait, error)
    }
    const { spent } = acquired
    if (spent !== undefined) {
      this.#local.spend(
        spent.map((s, i) => ({ ...this.#localTarget(requests[i] as BucketRequest), ...s })),
      )
    }
    return acquired
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
      this.#failed([target])
      await this.#local.adjust(this.#localTarget(target), delta)
    }
  }

  async pause(targets: readonly BucketTarget[], ms: number): Promise<void> {
    await Promise.all([
      this.#shared.pause(targets, ms).catch(() => this.#failed(targets)),
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
      this.#shared.lower(updates, at).catch(() => this.#failed(updates)),
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

  async #decideLocally(
    requests: readonly BucketRequest[],
    maxWait: number,
    error: unknown,
  ): Promise<Acquired> {
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
    this.#owe(requests)
    // Handed back with the caller's own buckets; the local store finds its own by name.
    const parts = local.reservation.parts.map((p, i) => ({
      ...p,
      bucket: (requests[i] as BucketRequest).bucket,
    }))
    const reservation = { parts }
    this.#localReservations.add(reservation)
    return { ...local, reservation, degraded: { by: 'fallback', error } }
  }

  /** Redis failed an operation: it is owed what the local share spends from now on. */
  #failed(targets: readonly BucketTarget[] = []): void {
    this.#failures++
    this.#switched = true
    this.#owe(targets)
  }

  #owe(targets: readonly BucketTarget[]): void {
    const owed = this.#owed
    if (owed.all) return
    for (const { bucket, key } of targets) {
      let keys = owed.buckets.get(bucket.name)
      if (keys === undefined) {
        keys = new Map()
        owed.buckets.set(bucket.name, keys)
      }
      if (keys.has(key)) continue
      keys.set(key, bucket)
      if (++owed.count > maxOwed) {
        this.#owed = { buckets: new Map(), count: 0, all: true }
        return
      }
    }
  }

  /** One handover at a time; calls that arrive meanwhile wait for it and share its verdict. */
  #handOver(): Promise<void> {
    this.#handover ??= this.#sendOwed().finally(() => {
      this.#handover = undefined
    })
    return this.#handover
  }

  async #sendOwed(): Promise<void> {
    const failures = this.#failures
    let taken: Owed | undefined
    try {
      // Taken only once Redis answered the handover's PING: while it is away, nothing moves.
      await this.#shared.handOver(() => {
        taken = this.#owed
        this.#owed = { buckets: new Map(), count: 0, all: false }
        return this.#spentOf(taken)
      })
    } catch (error) {
      if (taken !== undefined) this.#giveBack(taken)
      throw error
    }
    if (this.#failures === failures) this.#switched = false
  }

  #giveBack(taken: Owed): void {
    if (taken.all) {
      this.#owed = { buckets: new Map(), count: 0, all: true }
      return
    }
    for (const keys of taken.buckets.values()) {
      this.#owe([...keys].map(([key, bucket]) => ({ bucket, key })))
    }
  }

  #spentOf(owed: Owed): PartitionSpent[] {
    if (owed.all) return this.#local.spent()
    const found: PartitionSpent[] = []
    for (const keys of owed.buckets.values()) {
      for (const [key, bucket] of keys) {
        const spent = this.#local.spentOf({ bucket: this.#scale(bucket), key })
        if (spent !== undefined) found.push({ name: bucket.name, key, ...spent })
      }
    }
    return found
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
        ...(bucket.maxKeys === undefined ? {} : { maxKeys: bucket.maxKeys }),
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
