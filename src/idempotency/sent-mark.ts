import { IdempotencyConflictError } from '../core/errors.js'
import type { RecordStore } from './record-store.js'

/** The mark a recorded call puts on its record as its first attempt leaves. */
export interface SentMark {
  /**
   * What the transport awaits before each attempt: marks the record at the first only. Rejects,
   * and the call is not sent, when another call took the record over meanwhile.
   */
  readonly beforeSend: () => Promise<void>
  /** Tries again a mark the store failed; nothing when it landed or was never asked for. */
  retry(): void
}

/**
 * Marks the record sent once, so that a holder that dies before its first attempt leaves
 * (waiting for a bucket, the breaker, a concurrency slot) leaves the record free, not abandoned.
 * A mark the store failed (Redis down) does not hold the call back, since the call is better sent
 * than failed for the store's sake; `retry` tries it again (the stage does at every renewal).
 * Until one lands, a lapsed lease frees the record: the one case where a call that was sent may
 * be sent again without `unknownOutcome` being asked. A holder that stalled past its lease and
 * finds its record taken by another call does not send: that call sends it. A holder that took
 * its record over abandoned needs no mark: a lapse leaves that record abandoned anyway.
 */
export function sentMark(
  records: RecordStore,
  recordKey: string,
  token: string,
  key: string,
): SentMark {
  let marked = false
  let first: Promise<void> | undefined
  const mark = async (): Promise<void> => {
    let owned: boolean
    try {
      owned = await records.markSent(recordKey, token)
    } catch {
      return
    }
    marked = true
    if (!owned) {
      const why = 'was taken over by another call while this one waited to be sent'
      throw new IdempotencyConflictError(`idempotency key "${key}" ${why}; it was not sent`)
    }
  }
  return {
    beforeSend: () => {
      first ??= mark()
      return first
    },
    retry: () => {
      if (first !== undefined && !marked) mark().catch(() => {})
    },
  }
}
