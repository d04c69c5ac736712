import { maxServerWaitMs } from '../core/validate.js'
import type { RedisConnection } from '../redis/connection.js'
import {
  acquireScript,
  adjustScript,
  balanceScript,
  lowerScript,
  pauseScript,
  refundScript,
  spendScript,
} from './bucket-scripts.js'
import type {
  Acquired,
  BucketLowering,
  BucketRequest,
  BucketStore,
  BucketTarget,
  PartitionSpent,
  Reservation,
  Spent,
} from './bucket-store.js'

/** ms per token, as the scripts take it: written so that it reads back exactly. */
const step = (target: BucketTarget) => String(1_000 / target.bucket.refillPerSecond)

// Partition keys whose buckets a handover sends to Redis at once: enough to fill the pipe,
// few enough that none waits out the connection's timeout behind the others.
const handoverBatch = 32

/** The `<full> <paused>` pairs at the end of an acquire reply, one per bucket. */
function spentOf(fields: readonly string[], from: number, n: number): Spent[] | undefined {
  if (fields.length < from + 2 * n) return undefined
  const spent: Spent[] = []
  for (let i = 0; i < n; i++) {
    spent.push({ full: Number(fields[from + 2 * i]), paused: Number(fields[from + 2 * i + 1]) })
  }
  return spent
}

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
    const n = requests.length
    if (granted !== '1') {
      const retryAfter = time === 'inf' ? Number.POSITIVE_INFINITY : Number(time)
      const refused = {
        granted: false,
        retryAfter,
        bucket,
        exceedsCapacity: rest[0] === '1',
      } as const
      const spent = spentOf(rest, 1, n)
      return spent === undefined ? refused : { ...refused, spent }
    }
    const parts = requests.map((r, i) => ({
      bucket: r.bucket,
      key: r.key,
      debit: Number(rest[i]),
    }))
    const spent = spentOf(rest, n, n)
    const acquired = {
      granted: true,
      wait: Number(time),
      bucket,
      reservation: { parts },
      decidedAt: Number(rest[3 * n]),
    } as const
    return spent === undefined ? acquired : { ...acquired, spent }
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
    const args = [String(delta), step(target), String(target.bucket.capacity)]
    await adjustScript.run(this.#connection, [this.#key(target)], args)
  }

  async pause(targets: readonly BucketTarget[], ms: number): Promise<void> {
    if (targets.length === 0) return
    await pauseScript.run(
      this.#connection,
      targets.map((t) => this.#key(t)),
      [String(Math.min(ms, maxServerWaitMs))],
    )
  }

  /**
   * Takes over from a local share that stood in for Redis: asks a PING first (a Redis marked
   * down fails it at once), and only then lists what the local share spent, with `spent`, and
   * sends it. Rejects when Redis is not back.
   */
  async handOver(spent: () => readonly PartitionSpent[]): Promise<void> {
    await this.#connection.command(['PING'])
    await this.spend(spent())
  }

  /**
   * Makes each partition at least as spent as the local share that stood in for Redis left it.
   * One script per partition key (its buckets share a hash slot), a batch of them at a time;
   * rejects when any fails, Redis being no more back than it was.
   */
  async spend(parts: readonly PartitionSpent[]): Promise<void> {
    const byKey = new Map<string, PartitionSpent[]>()
    for (const p of parts) {
      const group = byKey.get(p.key)
      if (group === undefined) byKey.set(p.key, [p])
      else group.push(p)
    }
    const groups = [...byKey.values()]
    for (let i = 0; i < groups.length; i += handoverBatch) {
      await Promise.all(
        groups.slice(i, i + handoverBatch).map((group) =>
          spendScript.run(
            this.#connection,
            group.map((p) => this.#keyOf(p.name, p.key)),
            group.flatMap((p) => [String(p.full), String(p.paused)]),
          ),
        ),
      )
    }
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
    return this.#keyOf(name, key)
  }

  #keyOf(name: string, key: string): string {
    const { namespace } = this.#connection
    return `${namespace}:rl:${key.length}:${name.length}:{${namespace}:${key}}:${name}`
  }
}
