import type { Call } from '../core/call.js'
import type { Outcome } from '../core/outcome.js'

/**
 * What a coalescer across processes needs of the cache: it waits for the entry another process
 * stores, and stores the outcome it fetched itself before it lets the others go.
 */
export interface CacheEntries {
  /**
   * The fresh outcome stored for the call, if any. Rejects when the store fails; a value that
   * is not an entry is reported and reads as nothing. The stage above will not store it again.
   */
  fresh(call: Call): Promise<Outcome | undefined>
  /** Stores the outcome if it may be stored; resolves true once the store kept it. */
  save(call: Call, outcome: Outcome): Promise<boolean>
}
