import type { RecordStore } from './record-store.js'

/** The mark a recorded call puts on its record as its first attempt leaves. */
export interface SentMark {
  /** What the transport awaits before each attempt: marks the record at the first only. */
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
 * be sent again without `unknownOutcome` being asked.
 */
export function sentMark(records: RecordStore, recordKey: string, token: string): SentMark {
  let marked = false
  let first: Promise<void> | undefined
  const mark = () =>
    records.markSent(recordKey, token).then(
      () => {
        marked = true
      },
      () => {},
    )
  return {
    beforeSend: () => {
      first ??= mark()
      return first
    },
    retry: () => {
      if (first !== undefined && !marked) mark()
    },
  }
}
