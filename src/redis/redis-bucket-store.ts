import type {
  Acquired,
  BucketLowering,
  BucketRequest,
  BucketStore,
  BucketTarget,
  Reservation,
} from '../ratelimit/bucket-store.js'
import {
  acquireScript,
  adjustScript,
  balanceScript,
  lowerScript,
  pauseScript,
  refundScript,
} from './bucket-scripts.js'
import type { RedisConnection } from './connection.js'

/** ms per token, as the scripts take it: written so that it reads back exactly. */
const step = (target: BucketTarget) => String(1_000 / target.bucket.refillPerSecond)

/**
 * Token buckets shared by every process on one Redis. Each decision is one script (see
 * `bucket-scripts.ts`) through `connection.run`: atomic over all the buckets of a call, one
 * round trip, timed by Redis' `TIME` so that clients on skewed clocks share one exact budget,
 * and bounded by the connection's timeout and breaker. A failure rejects (with
 * `RedisUnavailableError`, or the `ErrorReply`) for the caller to fall back on.
 *
 * Waiting is GCRA: a granted call's tokens are taken at once and it is told when to start, so
 * later callers in any process queue behind it without a shared queue. A script that timed out
 * here may still run on the server: its tokens are then spent for nothing until the bucket
 * refills, which errs on the side of the quota.
 *
 * Keys: `<namespace>:rl:<key length>:<name length>:{<namespace>:<key>}:<name>`. The hash tag is
 * the namespace and the partition key, so on Redis Cluster the buckets of one call (which
 * share the partition key unless their `key` functions differ, and by default all are per
 * origin) land in one slot, while partitions spread over the cluster. Buckets that one call
 * checks together must therefore use the same `key` function on a cluster. The lengths make
 * every name and partition key pair its own key, whatever characters they hold.
 */
export class RedisBucketStore implements BucketStore {
  readonly #connection: RedisConnection

  constructor(connection: RedisConnection) {
    this.#connection = connection
  }

  async acquire(requests: readonly BucketRequest[], maxWait: number): Promise<Acquired> {
    const keys: string[] = []
    const args = [Number.isFinite(maxWait) ? String(maxWait) : '-1']
    for (const r of requests) {
      keys.push(this.#key(r))
      args.push(String(r.cost), String(r.bucket.capacity), step(r))
    }
    const reply = await acquireScript.run<string>(this.#connection, keys, args)
    const [granted, time, binding, ...rest] = reply.split(' ')
    const bucket = (requests[Number(binding) - 1] as BucketRequest).bucket.name
    if (granted !== '1') {
      const retryAfter = time === 'inf' ? Number.POSITIVE_INFINITY : Number(time)
      return { granted: false, retryAfter, bucket, exceedsCapacity: rest[0] === '1' }
    }
    const parts = requests.map((r, i) => ({
      bucket: r.bucket,
      key: r.key,
      debit: Number(rest[i]),
    }))
    return { granted: true, wait: Number(time), bucket, reservation: { parts } }
  }

  async refund(reservation: Reservation): Promise<void> {
    const { parts } = reservation
    if (parts.length === 0) return
    const keys = parts.map((p) => this.#key(p))
    await refundScript.run(
      this.#connection,
      keys,
      parts.map((p) => String(p.debit)),
    )
  }

  async adjust(target: BucketTarget, delta: number): Promise<void> {
    await adjustScript.run(this.#connection, [this.#key(target)], [String(delta), step(target)])
  }

  async pause(targets: readonly BucketTarget[], ms: number): Promise<void> {
    if (targets.length === 0) return
    await pauseScript.run(
      this.#connection,
      targets.map((t) => this.#key(t)),
      [String(ms)],
    )
  }

  async lower(updates: readonly BucketLowering[], at: number): Promise<void> {
    if (updates.length === 0) return
    const args = [String(at)]
    for (const u of updates) args.push(String(u.remaining), String(u.bucket.capacity), step(u))
    await lowerScript.run(
      this.#connection,
      updates.map((u) => this.#key(u)),
      args,
    )
  }

  async balance(target: BucketTarget): Promise<number> {
    const args = [String(target.bucket.capacity), step(target)]
    return Number(await balanceScript.run<string>(this.#connection, [this.#key(target)], args))
  }

  /** The connection is the instance's: it closes it. */
  async close(): Promise<void> {}

  #key({ bucket: { name }, key }: BucketTarget): string {
    const { namespace } = this.#connection
    return `${namespace}:rl:${key.length}:${name.length}:{${namespace}:${key}}:${name}`
  }
}
