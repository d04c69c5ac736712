import type Keyv from 'keyv'
import type { StageContext } from '../core/context.js'
import type { Stage } from '../core/stage.js'
import { hitStatus, withStatus } from './cache-status.js'
import { type EntryCodec, rawCodec } from './codec.js'
import { type CacheCommands, createCommands } from './commands.js'
import type { CacheEntries } from './entries.js'
import { freshnessOf } from './freshness.js'
import { createHttpCache } from './http-cache.js'
import { createHttpKeeper } from './http-keep.js'
import { createKeeper } from './keep.js'
import type { ResolvedCache } from './options.js'
import { createRefresher } from './refresh.js'
import { createServer } from './serve-stale.js'
import { createStoreIo } from './store-io.js'

/** The cache stage, and how to wait for the refreshes it started in the background. */
export interface CacheStage {
  readonly stage: Stage
  readonly entries: CacheEntries
  /** What users command of the cache: delete, invalidate a tag, clear. */
  readonly commands: CacheCommands
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

  const httpKeeper = createHttpKeeper(cache, io)
  // Its refreshes store what they fetch themselves, as revalidations do.
  const httpRefresher = createRefresher({ save: async () => false })
  const http = createHttpCache(ctx, io, httpKeeper, httpRefresher)

  const entries: CacheEntries = {
    async fresh(call) {
      if (call.httpCaching) return http.entries.fresh(call)
      const entry = await io.lookup(call)
      if (entry === undefined || freshnessOf(entry.times, clock.now()) !== 'fresh') return undefined
      keeper.markStored(entry.outcome)
      return entry.outcome
    },
    save: (call, outcome) =>
      call.httpCaching ? http.entries.save(call, outcome) : keeper.save(call, outcome),
  }

  const stage: Stage = async (call, next) => {
    if (!call.cacheable) {
      const outcome = await next(call)
      // Only an unsafe call under HTTP semantics has a store key of its own: the URL it changes.
      if (call.storeKey === call.key) return withStatus(outcome, 'fwd=bypass')
      await httpKeeper.invalidate(call, outcome)
      return withStatus(outcome, 'fwd=method')
    }
    if (call.httpCaching) return http.serve(call, next)
    const entry = await io.read(call)
    if (entry !== undefined) {
      const now = clock.now()
      const state = freshnessOf(entry.times, now)
      const status = hitStatus(entry.times.freshUntil - now)
      const age = now - entry.times.storedAt
      if (state === 'fresh') return withStatus(server.hit(call, entry), status, age)
      if (state === 'stale') return withStatus(server.revalidate(call, next, entry), status, age)
      if (state === 'staleIfError') {
        const outcome = await server.withFallback(call, next, entry)
        if (outcome !== entry.outcome) return withStatus(outcome, 'fwd=stale')
        return withStatus(outcome, 'fwd=stale; detail=stale-if-error', age)
      }
    }
    server.missed(call)
    return withStatus(await keeper.keep(call, await next(call)), 'fwd=miss')
  }

  const drain = async (): Promise<void> => {
    await Promise.all([refresher.drain(), httpRefresher.drain()])
  }

  return { stage, entries, commands: createCommands(store), close: drain }
}
