import type { Call } from '../core/call.js'
import type { StageContext } from '../core/context.js'
import { eventBase } from '../core/context.js'
import type { Outcome } from '../core/outcome.js'
import { discard } from '../core/outcome.js'
import type { Next } from '../core/stage.js'
import type { CacheEntry } from './entry.js'
import type { Keeper } from './keep.js'
import type { Refresher } from './refresh.js'

/** How the cache answers from an entry it found, by the entry's freshness. */
export interface Server {
  /** A fresh entry: counted as a hit and served. */
  hit(call: Call, entry: CacheEntry): Outcome
  /** A stale entry within `staleWhileRevalidate`: served while one refresh runs. */
  revalidate(call: Call, next: Next, entry: CacheEntry): Outcome
  /** An entry within `staleIfError`: the call goes upstream, the entry serves if that fails. */
  withFallback(call: Call, next: Next, fallback: CacheEntry): Promise<Outcome>
  /** Counts and reports a miss. */
  missed(call: Call): void
}

/** RFC 5861 §4: the answers that stale-if-error may stand in for. */
const isServerError = (outcome: Outcome): boolean =>
  outcome.kind === 'http' && outcome.status >= 500 && outcome.status <= 504

/** Serves fresh and stale entries, with the counters and events of each. */
export function createServer(ctx: StageContext, keeper: Keeper, refresher: Refresher): Server {
  const { counters, events } = ctx

  const missed = (call: Call): void => {
    counters.cacheMisses++
    if (events.wants('miss')) events.emit({ type: 'miss', ...eventBase(call) })
  }

  const serveStale = (call: Call, entry: CacheEntry, reason: 'revalidate' | 'error'): Outcome => {
    counters.staleServed++
    if (events.wants('stale')) events.emit({ type: 'stale', ...eventBase(call), reason })
    return entry.outcome
  }

  /** Goes upstream with an entry usable on failure in hand, which it serves when that fails. */
  const withFallback = async (call: Call, next: Next, fallback: CacheEntry): Promise<Outcome> => {
    let outcome: Outcome
    try {
      outcome = await next(call)
    } catch (error) {
      // The caller's own abort is an answer the caller asked for, not a failure to hide.
      if (call.signal?.aborted === true) {
        missed(call)
        throw error
      }
      return serveStale(call, fallback, 'error')
    }
    if (isServerError(outcome)) {
      discard(outcome)
      return serveStale(call, fallback, 'error')
    }
    // Counted once the stale entry is known to be unused, so each lookup counts once.
    missed(call)
    return keeper.keep(call, outcome)
  }

  return {
    hit(call, entry) {
      counters.cacheHits++
      if (events.wants('hit')) events.emit({ type: 'hit', ...eventBase(call) })
      return entry.outcome
    },
    revalidate(call, next, entry) {
      refresher.refresh(call, next)
      return serveStale(call, entry, 'revalidate')
    },
    withFallback,
    missed,
  }
}
