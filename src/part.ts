/**
 * The shape every part of the chain has, and what parts hand down to the parts below them.
 * `src/chain.ts` lists the parts in order; each folder's `part.ts` makes its own.
 */
import type { CacheCommands } from './cache/commands.js'
import type { CacheEntries } from './cache/entries.js'
import type { Call } from './core/call.js'
import type { StageContext } from './core/context.js'
import type { Stage } from './core/stage.js'
import type { ResolvedOptions } from './options.js'
import type { Headroom } from './ratelimit/headroom.js'
import type { RedisConnection } from './redis/connection.js'

/** One part of an instance's chain, made once at construction. */
export interface Part {
  readonly stage: Stage
  /** Called on `close()` first, outermost part first: lets background work finish. */
  drain?(): Promise<void>
  /** Called on `close()` after every drain, innermost part first: releases what it holds. */
  close?(): Promise<void>
  /** Upstream calls in flight that identical calls may join, for `stats().inFlight`. */
  inFlight?(): number
  /** Adds `delta` tokens to bucket `name` under `key`, for the front doors' `adjust`. */
  adjust?(name: string, key: string, delta: number): void
  /** Calls served by each pool target, by name, for `stats().servedBy`. */
  servedBy?(): Readonly<Record<string, number>>
  /** The cache's commands, for the front doors' `cache` (the cache part only). */
  readonly cacheCommands?: CacheCommands
}

/**
 * What parts share: the one Redis connection, and what a part left for the others. Parts are
 * made outermost first, so what a lower part leaves for one above is read at call time.
 */
export interface Shared {
  /** The instance's connection in distributed mode; undefined in memory. */
  readonly redis: RedisConnection | undefined
  /** The cache's entries, for the cross-process coalescing below it; set by the cache part. */
  cacheEntries: CacheEntries | undefined
  /**
   * When a call could start on its rate-limit buckets (shared ones on Redis), for the pool
   * above to choose a target; set by the rate-limit part, undefined without buckets.
   */
  headroom: ((call: Call) => Promise<Headroom>) | undefined
}

/** Makes a part from the resolved options, or `undefined` when the options turn it off. */
export type PartFactory = (
  context: StageContext,
  options: ResolvedOptions,
  shared: Shared,
) => Part | undefined
