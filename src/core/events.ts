import { channel } from 'node:diagnostics_channel'

interface EventBase {
  /** The call's canonical key (a hash: it never holds a credential). */
  readonly key: string
  readonly method: string
  /** Origin and path of the call, without its query. */
  readonly target: string
}

/** What ended the retries of a call that could have used another attempt. */
export type GiveUpCause = 'attempts' | 'notIdempotent' | 'retryAfter' | 'deadline' | 'budget'

/** Breaker states, as events and `CircuitOpenError` name them. */
export type BreakerStateName = 'closed' | 'open' | 'halfOpen'

/** Everything breakwater reports, one `type` each. */
export type BreakwaterEvent =
  | (EventBase & { readonly type: 'hit' })
  | (EventBase & { readonly type: 'miss' })
  | (EventBase & { readonly type: 'stale'; readonly reason: 'revalidate' | 'error' })
  | (EventBase & { readonly type: 'cacheError'; readonly error: unknown })
  | (EventBase & { readonly type: 'coalesced'; readonly waiters: number })
  | (EventBase & {
      readonly type: 'retry'
      /** The attempt that failed, 1-based. */
      readonly attempt: number
      /** ms until the next attempt. */
      readonly delay: number
      /** `'status 503'`, an error code such as `'ECONNRESET'`, or `'timeout'`. */
      readonly reason: string
    })
  | (EventBase & {
      readonly type: 'giveUp'
      readonly attempts: number
      /** The last failure, as in `retry`. */
      readonly reason: string
      /** Which limit stopped the retries. */
      readonly stoppedBy: GiveUpCause
    })
  | (EventBase & {
      readonly type: 'throttled'
      /** The bucket the call waited for. */
      readonly bucket: string
      /** ms the call waits before its attempt. */
      readonly wait: number
    })
  | (EventBase & {
      readonly type: 'lateStart'
      /** ms past its granted start: the call takes its turn again. */
      readonly late: number
    })
  | (EventBase & {
      readonly type: 'rateLimited'
      readonly bucket: string
      /** ms after which the bucket could admit the call. */
      readonly retryAfter: number
    })
  | (EventBase & {
      readonly type: 'paused'
      readonly bucket: string
      /** ms the bucket stays paused, as the server asked (429 with Retry-After). */
      readonly pause: number
    })
  | (EventBase & { readonly type: 'replay' })
  | (EventBase & {
      /**
       * The call's idempotency record was abandoned: an earlier holder's lease lapsed with no
       * outcome, perhaps after sending the call. The call took the record over and did what
       * `rule` says: sent it again, or failed with `IdempotencyUnknownOutcomeError`.
       */
      readonly type: 'unknownOutcome'
      readonly rule: 'resend' | 'fail'
    })
  | (EventBase & {
      /**
       * The value under the call's idempotency record was no record (foreign or corrupt): it
       * was treated as absent, never served.
       */
      readonly type: 'recordError'
      readonly error: unknown
    })
  | (EventBase & {
      readonly type: 'breaker'
      readonly scope: string
      readonly from: BreakerStateName
      readonly to: BreakerStateName
    })
  | (EventBase & {
      /** The call got the outcome that another process, holding the key's lease, stored. */
      readonly type: 'leaseJoined'
      /** ms the call waited for it. */
      readonly waited: number
    })
  | (EventBase & {
      /** The lease of another process ran out with nothing stored; this call took it over. */
      readonly type: 'leaseTakeover'
    })
  | (EventBase & {
      /** Redis failed a shared part of this call, which went on with the in-process one. */
      readonly type: 'redisFallback'
      readonly part: 'lease' | 'record' | 'bucket'
      readonly error: unknown
    })
  | {
      /** Redis stopped answering: its breaker opened, and shared parts run in-process. */
      readonly type: 'redisDown'
      readonly error: unknown
    }
  | {
      /** Redis answered again after being down; shared parts use it again. */
      readonly type: 'redisUp'
      /** ms it was down. */
      readonly downFor: number
    }
  | (EventBase & {
      /** A pool target failed the call, which moves on to the next target. */
      readonly type: 'failover'
      /** The target that failed (its `name`). */
      readonly via: string
      /** `'status 529'`, an error code, `'timeout'`, `'circuitOpen'` or `'rateLimited'`. */
      readonly reason: string
      /** ms the target is now passed over. */
      readonly cooldown: number
    })
  | (EventBase & {
      /** A pool target ended the call (not with a failure that moved it on). */
      readonly type: 'served'
      /** The target that served it (its `name`). */
      readonly via: string
      /** Targets that failed the call before this one. */
      readonly failovers: number
    })
  | (EventBase & {
      /**
       * The call's partition of a bucket was new, and the bucket already holds spent budget in
       * `maxKeys` partitions, none of which it forgets before it is full again: the call was
       * refused (and is also reported as `rateLimited`).
       */
      readonly type: 'partitionsFull'
      readonly bucket: string
      readonly maxKeys: number
      /** ms until the first partition is full again, making room. */
      readonly retryAfter: number
    })

export type BreakwaterEventType = BreakwaterEvent['type']

/** The `diagnostics_channel` each event type is published on. */
export const channelNames: Readonly<Record<BreakwaterEventType, string>> = {
  hit: 'breakwater:cache:hit',
  miss: 'breakwater:cache:miss',
  stale: 'breakwater:cache:stale',
  cacheError: 'breakwater:cache:error',
  coalesced: 'breakwater:coalesce',
  retry: 'breakwater:retry',
  giveUp: 'breakwater:retry:giveUp',
  throttled: 'breakwater:ratelimit:throttled',
  lateStart: 'breakwater:ratelimit:lateStart',
  rateLimited: 'breakwater:ratelimit:rejected',
  paused: 'breakwater:ratelimit:paused',
  replay: 'breakwater:idempotency:replay',
  recordError: 'breakwater:idempotency:error',
  unknownOutcome: 'breakwater:idempotency:unknownOutcome',
  breaker: 'breakwater:breaker',
  leaseJoined: 'breakwater:coalesce:lease:joined',
  leaseTakeover: 'breakwater:coalesce:lease:takeover',
  redisFallback: 'breakwater:redis:fallback',
  redisDown: 'breakwater:redis:down',
  redisUp: 'breakwater:redis:up',
  partitionsFull: 'breakwater:ratelimit:partitionsFull',
  failover: 'breakwater:pool:failover',
  served: 'breakwater:pool:served',
}

const channels = Object.fromEntries(
  Object.entries(channelNames).map(([type, name]) => [type, channel(name)]),
) as Record<BreakwaterEventType, ReturnType<typeof channel>>

/**
 * Sends events to `onEvent` and to `diagnostics_channel`. Building an event costs something,
 * so stages ask `wants(type)` first: with no listener and no subscriber, nothing is built.
 */
export class Events {
  readonly #onEvent: ((event: BreakwaterEvent) => void) | undefined

  constructor(onEvent: ((event: BreakwaterEvent) => void) | undefined) {
    this.#onEvent = onEvent
  }

  wants(type: BreakwaterEventType): boolean {
    return this.#onEvent !== undefined || channels[type].hasSubscribers
  }

  emit(event: BreakwaterEvent): void {
    const published = channels[event.type]
    if (published.hasSubscribers) published.publish(event)
    if (this.#onEvent === undefined) return
    try {
      this.#onEvent(event)
    } catch (error) {
      // A listener's bug must not fail the call that reported it.
      process.emitWarning(
        `breakwater onEvent listener threw: ${String(error)}`,
        'BreakwaterWarning',
      )
    }
  }
}
