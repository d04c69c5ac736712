import { MemoryRecordStore } from '../idempotency/memory-record-store.js'
import type { ClaimResult, RecordedOutcome, RecordStore } from '../idempotency/record-store.js'
import type { RedisConnection } from './connection.js'
import { RedisRecordStore } from './redis-record-store.js'

/** Marks the tokens the local store issued, so that their record is looked for there. */
const localMark = 'local:'

/**
 * Shared records that degrade to in-process ones: every claim goes to the shared store, and
 * one it fails (Redis down, slow, or a record it cannot fix) is made in the local store
 * instead, its answer carrying the error as `fallback` for the stage to report. Nothing is
 * thrown at the caller for Redis' sake, and the first claim after Redis returns uses it again.
 *
 * A key the local store holds (claimed while Redis was down) is answered there until its
 * record ends, so that this process never sends it twice. A token says which store issued it,
 * so `renew`, `complete` and `release` go where the claim was made, whatever Redis does
 * meanwhile. A waiter waits in the local store while Redis is marked down or the record is
 * local, and in the shared one otherwise; a shared wait that fails ends at once, and the
 * caller's next claim falls back. Other processes do not see the local records: a key first
 * used while Redis was down may be sent once more from another process.
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

  async claim(recordKey: string, fingerprint: string, leaseMs: number): Promise<ClaimResult> {
    // A key this process used while Redis was down stays here, so that its repeats in this
    // process are answered as they were, Redis back or not.
    if (this.#local.holds(recordKey)) return this.#claimLocally(recordKey, fingerprint, leaseMs)
    try {
      return await this.#shared.claim(recordKey, fingerprint, leaseMs)
    } catch (error) {
      return { ...(await this.#claimLocally(recordKey, fingerprint, leaseMs)), fallback: error }
    }
  }

  renew(recordKey: string, token: string, leaseMs: number): Promise<boolean> {
    const [store, own] = this.#issuer(token)
    return store.renew(recordKey, own, leaseMs)
  }

  complete(
    recordKey: string,
    token: string,
    outcome: RecordedOutcome,
    ttlMs: number,
  ): Promise<boolean> {
    const [store, own] = this.#issuer(token)
    return store.complete(recordKey, own, outcome, ttlMs)
  }

  release(recordKey: string, token: string): Promise<boolean> {
    const [store, own] = this.#issuer(token)
    return store.release(recordKey, own)
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

  async #claimLocally(recordKey: string, fingerprint: string, leaseMs: number) {
    const answer = await this.#local.claim(recordKey, fingerprint, leaseMs)
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
