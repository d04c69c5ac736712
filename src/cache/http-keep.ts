import type { Call } from '../core/call.js'
import { urlStoreKey } from '../core/key.js'
import type { HttpOutcome, Outcome } from '../core/outcome.js'
import { headerOf } from '../http/headers.js'
import { withoutHopByHop } from './cache-status.js'
import { type Exchange, type HttpStorePolicy, planVariant } from './http-plan.js'
import type { ResolvedCache } from './options.js'
import type { StoreIo } from './store-io.js'
import { setRetention, type Variant, type VariantSet, withVariant } from './variant.js'

/** How the cache stores answers under HTTP semantics, and what unsafe calls invalidate. */
export interface HttpKeeper {
  /** Stores the answer as the variant the call selects; resolves the variant once kept. */
  store(
    call: Call,
    outcome: Outcome,
    exchange: Exchange,
    set: VariantSet | undefined,
  ): Promise<Variant | undefined>
  /** Marks an outcome read from the store, which is not to be written back. */
  markStored(outcome: Outcome): void
  /** After a successful unsafe call: drops what is stored for its URL and the ones it names. */
  invalidate(call: Call, outcome: Outcome): Promise<void>
}

/** The store policy of the cache's options under HTTP semantics. */
export function httpPolicyOf(cache: ResolvedCache): HttpStorePolicy {
  return {
    shared: cache.shared,
    heuristicTtl: cache.ttl,
    staleWhileRevalidate: cache.staleWhileRevalidate,
    staleIfError: cache.staleIfError,
    maxBodyBytes: cache.maxBodyBytes,
    streams: cache.streams === true,
  }
}

/** Plans and writes variants; deletes the URLs unsafe calls change. */
export function createHttpKeeper(cache: ResolvedCache, io: StoreIo): HttpKeeper {
  const policy = httpPolicyOf(cache)
  // Coalesced callers all hand back one outcome object; it is written once, by the first.
  const written = new WeakSet<Outcome>()

  const store: HttpKeeper['store'] = async (call, outcome, exchange, set) => {
    if (outcome.kind !== 'http' || written.has(outcome)) return undefined
    written.add(outcome)
    const kept: HttpOutcome = { ...outcome, headers: withoutHopByHop(outcome.headers) }
    const variant = planVariant(call, kept, policy, exchange)
    if (variant === undefined) return undefined
    if (cache.storable !== undefined && !cache.storable(outcome, call.details)) return undefined
    written.add(variant.outcome)
    const next = withVariant(set, variant, exchange.receivedAt)
    const ttl = Math.ceil(setRetention(next, exchange.receivedAt))
    if (!(await io.writeSet(call, next, ttl))) return undefined
    await io.tag(call, call.storeKey, ttl)
    return variant
  }

  return {
    store,
    markStored: (outcome) => written.add(outcome),
    async invalidate(call, outcome) {
      if (outcome.kind !== 'http' || outcome.status < 200 || outcome.status > 399) return
      const keys = new Set([call.storeKey])
      const headers = call.details.headers ?? new Headers()
      for (const field of ['location', 'content-location']) {
        const named = sameOriginTarget(call.url, headerOf(outcome, field))
        if (named !== undefined) keys.add(urlStoreKey(named, headers))
      }
      await Promise.all([...keys].map((key) => io.remove(call, key)))
    },
  }
}

/**
 * RFC 9111 §4.4: a `Location` or `Content-Location` is invalidated only on the request's own
 * origin, so that a server cannot wipe another's entries.
 */
function sameOriginTarget(base: string, value: string | undefined): URL | undefined {
  if (value === undefined) return undefined
  try {
    const url = new URL(value, base)
    return url.origin === new URL(base).origin ? url : undefined
  } catch {
    return undefined
  }
}
