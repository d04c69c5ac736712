import type { Call } from '../core/call.js'
import { discard } from '../core/outcome.js'
import type { Next } from '../core/stage.js'
import type { Keeper } from './keep.js'

/** The background refreshes of stale entries: at most one per key at a time. */
export interface Refresher {
  /** Starts a refresh of the call's entry, unless one for its key is running already. */
  refresh(call: Call, next: Next): void
  /** Resolves once no refresh is running, counting those started while it waits. */
  drain(): Promise<void>
}

/** Refreshes stale entries in the background, storing what comes back. */
export function createRefresher(keeper: Pick<Keeper, 'save'>): Refresher {
  const refreshes = new Map<string, Promise<void>>()

  const refreshOnce = async (call: Call, next: Next): Promise<void> => {
    try {
      // No caller waits for this outcome, so no caller's signal may cut it short.
      const outcome = await next({ ...call, signal: undefined })
      await keeper.save(call, outcome)
      discard(outcome)
    } catch {
      // A failed refresh leaves the stale entry in place until its windows close.
    }
  }

  return {
    refresh(call, next) {
      if (refreshes.has(call.key)) return
      // `finally` runs as a later reaction, so the key is always set before it is deleted.
      const running = refreshOnce(call, next).finally(() => refreshes.delete(call.key))
      refreshes.set(call.key, running)
    },
    async drain() {
      // Calls still arriving while closing may start refreshes of their own.
      while (refreshes.size > 0) await Promise.all(refreshes.values())
    },
  }
}
