import { breakerPart } from './breaker/part.js'
import type { CacheCommands } from './cache/commands.js'
import { cachePart } from './cache/part.js'
import { coalescePart, leasePart } from './coalesce/part.js'
import { concurrencyPart } from './concurrency/part.js'
import type { Call } from './core/call.js'
import type { StageContext } from './core/context.js'
import { Events } from './core/events.js'
import type { Outcome } from './core/outcome.js'
import { compose, type Next } from './core/stage.js'
import { Counters, type Stats } from './core/stats.js'
import { idempotencyPart } from './idempotency/part.js'
import type { ResolvedOptions } from './options.js'
import type { Part, PartFactory, Shared } from './part.js'
import { poolPart } from './pool/part.js'
import { rateLimitPart } from './ratelimit/part.js'
import { RedisConnection } from './redis/connection.js'
import { retryPart } from './retry/part.js'
import { streamPart } from './stream/part.js'
import { timeoutPart } from './timeout/part.js'

/**
 * The parts of every instance, outermost first. A call goes down this list to the transport;
 * a part its options turn off is absent, so a cache hit touches nothing below the cache.
 */
export const chain: readonly PartFactory[] = [
  cachePart, // fresh hit → done; stale → serve and refresh once; miss → on
  coalescePart, // join the identical call in flight in this process
  leasePart, // ...or in another process, through a Redis lease
  idempotencyPart, // give the call its key; replay a recorded outcome
  poolPart, // one target at a time, the one that can start soonest; on to the next on failure
  breakerPart, // open → fail fast
  retryPart, // attempt → classify → wait → again
  rateLimitPart, // every attempt takes its cost from its buckets, or waits its turn
  concurrencyPart, // at most n attempts in flight
  timeoutPart, // per attempt, to the body's last byte
  streamPart, // hold an event stream back until its first content event; time its gaps
]

/** One configured chain, shared by a front door and all of its calls. */
export interface Instance {
  readonly options: ResolvedOptions
  readonly context: StageContext
  /** Sends a call down the whole chain. */
  run(call: Call): Promise<Outcome>
  stats(): Stats
  /** Adds `delta` tokens to bucket `name` under `key` (negative: a debt). */
  adjust(name: string, key: string, delta: number): void
  /** The cache's commands; undefined with `cache: false`. */
  readonly cacheCommands: CacheCommands | undefined
  /** Drains every part outermost first, closes them innermost first, then the connection. */
  close(): Promise<void>
  readonly closed: boolean
}

/**
 * Builds the `parts` (`chain`, but for tests of the chain itself) once, over one transport, and
 * the instance that runs them.
 */
export function createInstance(
  options: ResolvedOptions,
  makeTransport: (context: StageContext) => Next,
  onClose: () => Promise<void> = async () => {},
  parts: readonly PartFactory[] = chain,
): Instance {
  const context: StageContext = {
    counters: new Counters(),
    events: new Events(options.onEvent),
    clock: options.clock,
    timers: options.timers,
  }
  // Distributed mode: one connection serves every shared part; without it all is in memory.
  const redis = options.redis
    ? new RedisConnection(options.redis, options.namespace, context)
    : undefined
  const shared: Shared = { redis, cacheEntries: undefined, headroom: undefined }
  const made = parts.flatMap((create) => create(context, options, shared) ?? [])
  const run = compose(
    made.map((part) => part.stage),
    makeTransport(context),
  )
  const adjusting = made.find((part) => part.adjust !== undefined)
  const inFlight = made.find((part) => part.inFlight !== undefined)
  const serving = made.find((part) => part.servedBy !== undefined)
  let closed = false
  return {
    options,
    context,
    run,
    stats: () => context.counters.snapshot(inFlight?.inFlight?.() ?? 0, serving?.servedBy?.()),
    cacheCommands: made.find((part) => part.cacheCommands !== undefined)?.cacheCommands,
    adjust: (name, key, delta) => {
      if (adjusting?.adjust === undefined) {
        throw new RangeError(`adjust: no rate-limit bucket is named ${JSON.stringify(name)}`)
      }
      adjusting.adjust(name, key, delta)
    },
    get closed() {
      return closed
    },
    async close() {
      if (closed) return
      closed = true
      await closeParts(made)
      await redis?.close()
      await onClose()
    },
  }
}

async function closeParts(parts: readonly Part[]): Promise<void> {
  for (const part of parts) await part.drain?.()
  for (const part of [...parts].reverse()) await part.close?.()
}
