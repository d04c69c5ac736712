import type Keyv from 'keyv'
import type { StageContext } from '../core/context.js'
import type { Stage } from '../core/stage.js'
import { type EntryCodec, rawCodec } from './codec.js'
import type { CacheEntries } from './entries.js'
import { freshnessOf } from './freshness.js'
import { createKeeper } from './keep.js'
import type { ResolvedCache } from './options.js'
import { createRefresher } from './refresh.js'
import { createServer } from './serve-stale.js'
import { createStoreIo } from './store-io.js'

/** The cache stage, and how to wait for the refreshes it started in the background. */
export interface CacheStage {
  readonly stage: Stage
  readonly entries: CacheEntries
  /** Resolves once no background refresh is running. */
  close(): Promise<void>
}

/**
 * Serves fresh entries, serves stale ones while one background refresh runs
 * (`staleWhileRevalidate`) or while the upstream fails (`staleIfError`), and stores what may be
 * stored. The store fails open: an error reading or writing it is counted and the call goes on
 * uncached.
 */
export function createCacheStage(
  ctx: StageContext,
  cache: ResolvedCache,
  store: Keyv,
  codec: EntryCodec = rawCodec,
): CacheStage {
  const { clock } = ctx
  // A store of the instance's own answers at once; a shared one is a round trip away, and the
  // callers of a cold key asking at once had better share that trip.
  const io = createStoreIo(ctx, store, codec, codec !== rawCodec)
  const keeper = createKeeper(cache, io, clock)
  const refresher = createRefresher(keeper)
  const server = createServer(ctx, keeper, refresher)

  const entries: CacheEntries = {
    async fresh(call) {
      const entry = await io.lookup(call)
      if (entry === undefined || freshnessOf(entry.times, clock.now()) !== 'fresh') return undefined
      keeper.markStored(entry.outcome)
      return entry.outcome
    },
    save: keeper.save,
  }

  const stage: Stage = async (call, next) => {
    if (!call.cacheable) return next(call)
    const entry = await io.read(call)
    if (entry !== undefined) {
      const state = freshnessOf(entry.times, clock.now())
      if (state === 'fresh') return server.hit(call, entry)
      if (state === 'stale') return server.revalidate(call, next, entry)
      if (state === 'staleIfError') return server.withFallback(call, next, entry)
    }
    server.missed(call)
    return keeper.keep(call, await next(call))
  }

  return { stage, entries, close: refresher.drain }
}
