import { createHash, randomUUID } from 'node:crypto'
import { nap } from '../core/clock.js'
import { BadRecordError } from '../core/errors.js'
import { decodeOutcome, encodeOutcome } from '../http/outcome-codec.js'
import type { RedisConnection } from '../redis/connection.js'
import { isRedisUnavailable } from '../redis/redis-client.js'
import {
  claimScript,
  completeScript,
  leaseLeftScript,
  markSentScript,
  releaseScript,
  renewScript,
  replaceScript,
} from './record-scripts.js'
import type { ClaimResult, RecordedOutcome, RecordStore } from './record-store.js'

/** Bounds of the delay between two looks of a waiter, ms, growing by half each time. */
const firstPoll = 20
const lastPoll = 200
/**
 * Claims in a row that may meet an unreadable record that changed before it could be replaced;
 * past them the claim fails, and the caller falls back as it would for Redis failing.
 */
const replaceTries = 3

/** Failed claims whose tokens are kept for release; beyond them, the leases end them. */
const maxStranded = 1_000

/**
 * Idempotency records shared by every process on one Redis, under `<namespace>:idem:<key>`.
 * Each step is one script (see `record-scripts.ts`) through `connection.run`, so it is atomic,
 * costs one round trip and has the connection's timeout and breaker: a failure rejects (with
 * `RedisUnavailableError`, or the `ErrorReply`) for the caller to fall back on.
 *
 * A claim writes a fresh token with the lease's end on Redis' clock, or answers about the
 * record already there; a record marked sent whose lease lapsed is abandoned, and the claim takes
 * it over (one never marked is simply claimed). `renew`, `markSent`, `complete` and `release`
 * act only for the owning token, so a holder whose lease ended (and whose record another took)
 * changes nothing when it finishes late. Outcomes are kept as JSON with bodies in base64 (the
 * cache's codec), so a wrapped function's value must survive JSON. A value under the key that is
 * not a record, or a record whose outcome does not read back, is treated as absent: the claim
 * takes the key over and reports the value as `badRecord`. Nothing is ever served from it.
 *
 * `wait` polls, from 20 ms up to 200 ms apart but never past the lease's end: node-redis
 * needs a connection of its own to subscribe, and the instance keeps to one.
 *
 * @example
 * const store = new RedisRecordStore(connection)
 * const claim = await store.claim(recordKey, fingerprint, 30_000)
 */
export class RedisRecordStore implements RecordStore {
  readonly #connection: RedisConnection
  // Waiters sleeping right now, so that `close` can wake them; each leaves when it wakes.
  readonly #sleepers = new Set<() => void>()
  // Claims that failed, perhaps only on our side: [key, token], the oldest first.
  readonly #stranded: [string, string][] = []
  #closed = false

  constructor(connection: RedisConnection) {
    this.#connection = connection
  }

  async claim(
    recordKey: string,
    fingerprint: string,
    leaseMs: number,
    ttlMs: number,
  ): Promise<ClaimResult> {
    const key = this.#key(recordKey)
    const print = digest(fingerprint)
    const lease = px(leaseMs)
    const keep = px(ttlMs)
    let badRecord: unknown
    for (let tries = 0; ; tries++) {
      const token = randomUUID()
      let reply: unknown[]
      try {
        const args = [print, token, lease, keep]
        reply = await claimScript.run<unknown[]>(this.#connection, [key], args)
      } catch (error) {
        this.#strand(key, token)
        throw error
      }
      this.#releaseStranded()
      const [status, payload, sha, ttlLeft] = reply as [string, string?, string?, number?]
      if (status === 'claimed') return noted({ status, token }, badRecord)
      if (status === 'abandoned') {
        return noted({ status: 'claimed', token, abandoned: true }, badRecord)
      }
      if (status === 'replaced') {
        return noted({ status: 'claimed', token }, new BadRecordError('no record under its key'))
      }
      if (status === 'conflict' || status === 'inFlight') return noted({ status }, badRecord)
      const outcome = readOutcome(payload)
      if (outcome !== undefined) {
        return noted({ status: 'done', outcome, ttlLeft: Math.max(0, ttlLeft ?? 0) }, badRecord)
      }
      badRecord = new BadRecordError('a record whose outcome does not read back')
      if (tries >= replaceTries) throw badRecord
      const args = [print, token, lease, sha ?? '', keep]
      if ((await replaceScript.run<number>(this.#connection, [key], args)) === 1) {
        return { status: 'claimed', token, badRecord }
      }
    }
  }

  async renew(recordKey: string, token: string, leaseMs: number): Promise<boolean> {
    const args = [token, px(leaseMs)]
    return (await renewScript.run<number>(this.#connection, [this.#key(recordKey)], args)) === 1
  }

  async markSent(recordKey: string, token: string): Promise<boolean> {
    const key = this.#key(recordKey)
    return (await markSentScript.run<number>(this.#connection, [key], [token])) === 1
  }

  async complete(
    recordKey: string,
    token: string,
    outcome: RecordedOutcome,
    ttlMs: number,
  ): Promise<boolean> {
    // Throws (and records nothing) for a value JSON cannot carry, such as a BigInt.
    const text = JSON.stringify(encodeOutcome(outcome))
    const args = [token, text, px(ttlMs)]
    return (await completeScript.run<number>(this.#connection, [this.#key(recordKey)], args)) === 1
  }

  async release(recordKey: string, token: string): Promise<boolean> {
    const key = this.#key(recordKey)
    try {
      return (await releaseScript.run<number>(this.#connection, [key], [token])) === 1
    } catch (error) {
      if (isRedisUnavailable(error)) this.#strand(key, token)
      throw error
    }
  }

  async wait(recordKey: string, signal: AbortSignal | undefined): Promise<void> {
    const key = this.#key(recordKey)
    let delay = firstPoll
    for (;;) {
      signal?.throwIfAborted()
      if (this.#closed) return
      const left = await leaseLeftScript.run<number>(this.#connection, [key])
      if (left === -1 || left === -2) return
      // A lease without an expiry is no lease of ours: look again at the slowest pace.
      await nap(left > 0 ? Math.min(delay, left + 1) : lastPoll, this.#sleepers, signal)
      delay = Math.min(delay * 1.5, lastPoll)
    }
  }

  /** Wakes the waiters; the connection belongs to the instance, which closes it. */
  async close(): Promise<void> {
    this.#closed = true
    for (const wake of [...this.#sleepers]) wake()
  }

  /**
   * A claim that timed out may still be applied by Redis later (a slow or paused server), and a
   * release that failed left its record in flight: either record would hold the key for a whole
   * lease with nobody behind it, and every other caller of the key would wait for that lease to
   * end. Its token is kept, and released once Redis answers again.
   */
  #strand(key: string, token: string): void {
    this.#stranded.push([key, token])
    if (this.#stranded.length > maxStranded) this.#stranded.shift()
  }

  #releaseStranded(): void {
    for (const [key, token] of this.#stranded.splice(0)) {
      // Token-checked: a claim that never landed, or that another claim took over, changes nothing.
      releaseScript.run(this.#connection, [key], [token]).catch((error: unknown) => {
        if (isRedisUnavailable(error)) this.#strand(key, token)
      })
    }
  }

  #key(recordKey: string): string {
    return this.#connection.key('idem', recordKey)
  }
}

/** ms as `PX` takes them: a whole number, at least 1. */
function px(ms: number): string {
  return String(Math.max(1, Math.ceil(ms)))
}

/** The fingerprint as a fixed-width field: any string in, 64 hex characters out. */
function digest(fingerprint: string): string {
  return createHash('sha256').update(fingerprint).digest('hex')
}

/** A recorded outcome from its JSON, or undefined when it does not read back as one. */
function readOutcome(payload: string | undefined): RecordedOutcome | undefined {
  if (payload === undefined) return undefined
  let parsed: unknown
  try {
    parsed = JSON.parse(payload)
  } catch {
    return undefined
  }
  // The codec already refuses a live stream: what it returns is bytes, null or a value.
  return decodeOutcome(parsed) as RecordedOutcome | undefined
}

/** `answer`, with the bad record met on the way when there was one. */
function noted(answer: ClaimResult, badRecord: unknown): ClaimResult {
  return badRecord === undefined ? answer : { ...answer, badRecord }
}
