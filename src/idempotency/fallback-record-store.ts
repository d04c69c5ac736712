import type { RedisConnection } from '../redis/connection.js'
import { MemoryRecordStore } from './memory-record-store.js'
import type { ClaimResult, RecordedOutcome, RecordStore } from './record-store.js'
import { RedisRecordStore } from './redis-record-store.js'

/** Marks the tokens the local store issued, so that their record is looked for there. */
const localMark = 'local:'

/**
 * Shared records that degrade to in-process ones: a claim goes to the shared store, and one it
 * fails (Redis down, slow, or a record it cannot fix) is made in the local store instead, its
 * answer carrying the error as `fallback` for the stage to report. Nothing is thrown at the
 * caller for Redis' sake, and the first claim after Redis returns uses it again.
 *
 * The local store also keeps what this process learnt through Redis: a key it is running under
 * a Redis claim (a copy that ends with its lease: the record abandoned after it is Redis'), an
 * outcome it recorded there, or one Redis replayed to it. A key the local
 * store holds, however it got there, is answered there until its record ends (lease or TTL),
 * so that this process never sends it twice, whether Redis is up, paused, asleep, restarted
 * empty or gone; it costs no round trip either. The local store is bounded by `maxRecords`.
 *
 * A token says which store issued it, so `renew`, `markSent`, `complete` and `release` go where
 * the claim was made, whatever Redis does meanwhile; those of a Redis claim (but the mark) also
 * act on its local copy, first, so that it outlives a Redis that fails them. A waiter waits in
 * the local store while Redis is marked down or the record is local, and in the shared one
 * otherwise; a shared wait that fails ends at once, and the caller's next claim falls back.
 * Other processes do not see the local records: a key first used, or completed, while Redis was
 * down may be sent once more from another process.
 */
export class FallbackRecordStore implements RecordStore {
  readonly #shared: RecordStore
  readonly #local: MemoryRecordStore
  readonly #down: () => boolean

  constructor(shared: RecordStore, local: MemoryRecordStore, down: () => boolean) {
    this.#shared = shared
    this.#local = local
    this.#down = down
  }

  async claim(
    recordKey: string,
    fingerprint: string,
    leaseMs: number,
    ttlMs: number,
  ): Promise<ClaimResult> {
    const locally = () => this.#claimLocally(recordKey, fingerprint, leaseMs, ttlMs)
    if (this.#local.holds(recordKey)) return locally()
    let answer: ClaimResult
    try {
      answer = await this.#shared.claim(recordKey, fingerprint, leaseMs, ttlMs)
    } catch (error) {
      return { ...(await locally()), fallback: error }
    }
    if (answer.status === 'done') {
      this.#local.keep(recordKey, fingerprint, answer.outcome, answer.ttlLeft)
    } else if (
      answer.status === 'claimed' &&
      !this.#local.hold(recordKey, fingerprint, answer.token, leaseMs)
    ) {
      // Another call of this process took the key here while this claim was on its way (Redis
      // failed that one): the key is running already, so this claim is let go.
      this.#shared.release(recordKey, answer.token).catch(() => false)
      return locally()
    }
    return answer
  }

  async renew(recordKey: string, token: string, leaseMs: number): Promise<boolean> {
    const [store, own] = this.#issuer(token)
    if (store === this.#local) return this.#local.renew(recordKey, own, leaseMs)
    // The local copy lasts as long as the call does, whatever Redis answers.
    await this.#local.renew(recordKey, token, leaseMs)
    return this.#shared.renew(recordKey, token, leaseMs)
  }

  async markSent(recordKey: string, token: string): Promise<boolean> {
    const [store, own] = this.#issuer(token)
    if (store === this.#local) return this.#local.markSent(recordKey, own)
    // The local copy ends with its lease whatever it says: what lapses is known in Redis.
    return this.#shared.markSent(recordKey, token)
  }

  async complete(
    recordKey: string,
    token: string,
    outcome: RecordedOutcome,
    ttlMs: number,
  ): Promise<boolean> {
    const [store, own] = this.#issuer(token)
    if (store === this.#local) return this.#local.complete(recordKey, own, outcome, ttlMs)
    // Recorded here whether or not Redis takes it (down, restarted empty, or unable to carry
    // the value): what this process sent, it replays. A value that cannot be cloned is not.
    await this.#local.complete(recordKey, token, outcome, ttlMs).catch(() => false)
    return this.#shared.complete(recordKey, token, outcome, ttlMs)
  }

  async release(recordKey: string, token: string): Promise<boolean> {
    const [store, own] = this.#issuer(token)
    if (store === this.#local) return this.#local.release(recordKey, own)
    // A release follows a failed call, or a `complete` Redis refused: an outcome recorded here
    // is done, not in flight, and stays.
    await this.#local.release(recordKey, token)
    return this.#shared.release(recordKey, token)
  }

  async wait(recordKey: string, signal: AbortSignal | undefined): Promise<void> {
    if (this.#down() || this.#local.holds(recordKey)) return this.#local.wait(recordKey, signal)
    try {
      await this.#shared.wait(recordKey, signal)
    } catch (error) {
      // The caller's own abort is its answer; Redis failing only sends it back to claim.
      if (signal?.aborted) throw error
    }
  }

  async close(): Promise<void> {
    await Promise.all([this.#shared.close(), this.#local.close()])
  }

  async #claimLocally(recordKey: string, fingerprint: string, leaseMs: number, ttlMs: number) {
    const answer = await this.#local.claim(recordKey, fingerprint, leaseMs, ttlMs)
    return answer.status === 'claimed' ? { ...answer, token: localMark + answer.token } : answer
  }

  #issuer(token: string): [RecordStore, string] {
    return token.startsWith(localMark)
      ? [this.#local, token.slice(localMark.length)]
      : [this.#shared, token]
  }
}

/**
 * The records of an instance in distributed mode: in Redis on the instance's connection,
 * falling back to at most `maxRecords` in process while Redis fails.
 */
export function createSharedRecordStore(
  connection: RedisConnection,
  maxRecords: number,
): RecordStore {
  return new FallbackRecordStore(
    new RedisRecordStore(connection),
    new MemoryRecordStore({ maxRecords }),
    () => connection.down,
  )
}
