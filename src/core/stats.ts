/** What one instance did since it was created. */
export interface Stats {
  /** Calls made through the front door. */
  readonly requests: number
  /** Calls answered from a fresh cache entry. */
  readonly cacheHits: number
  /** Cache lookups that found nothing usable. */
  readonly cacheMisses: number
  /** Calls answered from a stale entry (while revalidating, or because the upstream failed). */
  readonly staleServed: number
  /**
   * Conditional requests the cache sent to revalidate a stored answer (`If-None-Match`,
   * `If-Modified-Since`); also counted in `cacheMisses`.
   */
  readonly revalidations: number
  /** Revalidations the upstream answered `304 Not Modified`: the stored body was reused. */
  readonly notModified: number
  /** Calls that joined an identical call already in flight instead of calling upstream. */
  readonly coalesced: number
  /** Attempts sent to the upstream (retries included). */
  readonly upstreamCalls: number
  /** Attempts after the first. */
  readonly retries: number
  /** Calls that ended on a failure after retrying, or without being allowed to retry. */
  readonly giveUps: number
  /** Calls that waited for a rate-limit budget. */
  readonly throttled: number
  /**
   * Granted starts a call missed (its process stalled past the bucket's burst time): it gave
   * its tokens back and took its turn again.
   */
  readonly lateStarts: number
  /** Calls refused by a rate-limit budget. */
  readonly rateLimitRejects: number
  /** Times a breaker opened. */
  readonly breakerOpens: number
  /** Calls failed fast by an open breaker. */
  readonly breakerRejects: number
  /** Calls answered with a recorded outcome of the same idempotency key. */
  readonly idempotentReplays: number
  /**
   * Calls whose idempotency record was abandoned (an earlier holder's lease lapsed with no
   * outcome, the call perhaps sent): resent or failed, as `idempotency.unknownOutcome` says.
   */
  readonly unknownOutcomes: number
  /** Cache store operations that failed (counted apart from misses). */
  readonly cacheErrors: number
  /** Attempts that ran past `timeout`, and event streams silent past `streamIdleTimeout`. */
  readonly timeouts: number
  /**
   * Attempts whose event stream failed before its first content event (an error event, or a
   * close), with `streamCommit`: each one answered as the status it stands for.
   */
  readonly streamErrors: number
  /**
   * Redis operations that failed, ran past `redis.timeout`, or were not sent because Redis is
   * marked down (its breaker is open). Replies that Redis did send, such as a wrong type under
   * a key, are not counted here.
   */
  readonly redisErrors: number
  /**
   * Calls whose cross-process lock, bucket or record fell back to the in-process one because
   * Redis failed them. The cache counts its own failures in `cacheErrors`.
   */
  readonly redisFallbacks: number
  /**
   * Calls refused because their rate-limit partition was new and the bucket held spent budget
   * in `maxKeys` partitions already (also counted in `rateLimitRejects`).
   */
  readonly partitionRejects: number
  /** Times a pool target failed a call that then moved on to the next target. */
  readonly failovers: number
  /** Calls each pool target served, by its name; empty without a pool. */
  readonly servedBy: Readonly<Record<string, number>>
  /** (cacheHits + staleServed) / cache lookups; 0 before the first lookup. */
  readonly hitRatio: number
  /** Calls answered without an upstream call of their own: hits, stale, coalesced, replays. */
  readonly callsSaved: number
  /** Upstream calls in flight now that identical calls may join (0 when all is quiet). */
  readonly inFlight: number
}

type CounterName = Exclude<keyof Stats, 'hitRatio' | 'callsSaved' | 'inFlight' | 'servedBy'>

/** Plain counters behind `stats()`; stages bump them directly, which costs next to nothing. */
export class Counters implements Record<CounterName, number> {
  requests = 0
  cacheHits = 0
  cacheMisses = 0
  staleServed = 0
  revalidations = 0
  notModified = 0
  coalesced = 0
  upstreamCalls = 0
  retries = 0
  giveUps = 0
  throttled = 0
  lateStarts = 0
  rateLimitRejects = 0
  breakerOpens = 0
  breakerRejects = 0
  idempotentReplays = 0
  unknownOutcomes = 0
  cacheErrors = 0
  timeouts = 0
  streamErrors = 0
  redisErrors = 0
  redisFallbacks = 0
  partitionRejects = 0
  failovers = 0

  snapshot(inFlight = 0, servedBy: Readonly<Record<string, number>> = {}): Stats {
    const served = this.cacheHits + this.staleServed
    const lookups = served + this.cacheMisses
    return {
      requests: this.requests,
      cacheHits: this.cacheHits,
      cacheMisses: this.cacheMisses,
      staleServed: this.staleServed,
      revalidations: this.revalidations,
      notModified: this.notModified,
      coalesced: this.coalesced,
      upstreamCalls: this.upstreamCalls,
      retries: this.retries,
      giveUps: this.giveUps,
      throttled: this.throttled,
      lateStarts: this.lateStarts,
      rateLimitRejects: this.rateLimitRejects,
      breakerOpens: this.breakerOpens,
      breakerRejects: this.breakerRejects,
      idempotentReplays: this.idempotentReplays,
      unknownOutcomes: this.unknownOutcomes,
      cacheErrors: this.cacheErrors,
      timeouts: this.timeouts,
      streamErrors: this.streamErrors,
      redisErrors: this.redisErrors,
      redisFallbacks: this.redisFallbacks,
      partitionRejects: this.partitionRejects,
      failovers: this.failovers,
      servedBy,
      hitRatio: lookups === 0 ? 0 : served / lookups,
      callsSaved: served + this.coalesced + this.idempotentReplays,
      inFlight,
    }
  }
}
