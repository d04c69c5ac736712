import type { Call } from '../core/call.js'
import type { StageContext } from '../core/context.js'
import { eventBase } from '../core/context.js'
import type { HttpOutcome, Outcome } from '../core/outcome.js'
import { discard } from '../core/outcome.js'
import type { Next } from '../core/stage.js'
import { hitStatus, withStatus } from './cache-status.js'
import type { CacheEntries } from './entries.js'
import { freshnessOf } from './freshness.js'
import type { HttpKeeper } from './http-keep.js'
import type { Refresher } from './refresh.js'
import { ageOf, readRequest, reuseOf } from './reuse.js'
import type { StoreIo } from './store-io.js'
import { isConditional, mergeNotModified, notModifiedFor, validatingHeaders } from './validation.js'
import { selectVariant, type Variant, type VariantSet } from './variant.js'

/** The cache under HTTP semantics: RFC 9111 lookups, revalidation and stale serving. */
export interface HttpCache {
  /** Answers a call under HTTP caching from the store, the upstream, or both. */
  serve(call: Call, next: Next): Promise<Outcome>
  /** What a cross-process coalescer needs of these entries. */
  readonly entries: CacheEntries
}

/** RFC 5861 §4: the answers that stale-if-error may stand in for. */
const isServerError = (outcome: Outcome): boolean =>
  outcome.kind === 'http' && outcome.status >= 500 && outcome.status <= 504

/** RFC 9111 §5.2.1.7: what a cache answers `only-if-cached` with when it holds nothing usable. */
const gatewayTimeout = (call: Call): HttpOutcome => ({
  kind: 'http',
  status: 504,
  statusText: 'Gateway Timeout',
  headers: [['cache-status', 'breakwater; detail=only-if-cached']],
  body: null,
  url: call.url,
})

/** A copy of the call that sends `headers` instead, under a key of its own (never joined by a plain call). */
function sendingHeaders(call: Call, headers: Headers): Call {
  return {
    ...call,
    key: `${call.key}:validate`,
    headers,
    details: { ...call.details, headers },
  } as Call
}

/** What serving and revalidating share: counting, answering from a variant, going forward. */
interface Responder {
  missed(call: Call): void
  stale(call: Call, reason: 'revalidate' | 'error'): void
  /** `conditional`: the caller's request is conditional itself (then it may get a 304). */
  served(call: Call, variant: Variant, status: string, now: number, conditional?: boolean): Outcome
  forward(call: Call, next: Next, fwd: string, set: VariantSet | undefined): Promise<Outcome>
  /** The stale variant standing in for an upstream that failed (`stale-if-error`). */
  fallBack(call: Call, variant: Variant, failed: Outcome | undefined): Outcome
}

function createResponder(ctx: StageContext, keeper: HttpKeeper): Responder {
  const { clock, counters, events } = ctx

  const missed = (call: Call): void => {
    counters.cacheMisses++
    if (events.wants('miss')) events.emit({ type: 'miss', ...eventBase(call) })
  }

  const stale = (call: Call, reason: 'revalidate' | 'error'): void => {
    counters.staleServed++
    if (events.wants('stale')) events.emit({ type: 'stale', ...eventBase(call), reason })
  }

  /** The stored answer as served: a 304 to the caller's own conditional, its Age, its status. */
  const served: Responder['served'] = (call, variant, status, now, conditional) => {
    const headers = call.details.headers
    const stored = variant.outcome
    const asks = headers !== undefined && (conditional ?? isConditional(headers))
    const answer = asks ? notModifiedFor(headers, stored) : undefined
    return withStatus(answer ?? stored, status, ageOf(variant, now))
  }

  const forward = async (
    call: Call,
    next: Next,
    fwd: string,
    set: VariantSet | undefined,
  ): Promise<Outcome> => {
    const sentAt = clock.now()
    const outcome = await next(call)
    const kept = await keeper.store(call, outcome, { sentAt, receivedAt: clock.now() }, set)
    return withStatus(outcome, kept === undefined ? `fwd=${fwd}` : `fwd=${fwd}; stored`)
  }

  /** The stale variant standing in for an upstream that failed (`stale-if-error`). */
  const fallBack = (call: Call, variant: Variant, failed: Outcome | undefined): Outcome => {
    if (failed !== undefined) discard(failed)
    stale(call, 'error')
    const status = failed?.kind === 'http' ? `; fwd-status=${failed.status}` : ''
    return served(call, variant, `fwd=stale${status}; detail=stale-if-error`, clock.now())
  }

  return { missed, stale, served, forward, fallBack }
}

/** Goes upstream for a stored variant, conditionally when it has a validator. */
async function revalidate(
  ctx: StageContext,
  keeper: HttpKeeper,
  r: Responder,
  call: Call,
  next: Next,
  variant: Variant,
  set: VariantSet,
  reason: 'stale' | 'request',
  fallback: boolean,
): Promise<Outcome> {
  const { clock, counters } = ctx
  const own = call.details.headers ?? new Headers()
  const headers = isConditional(own) ? undefined : validatingHeaders(own, variant.outcome)
  if (headers !== undefined) counters.revalidations++
  const sentAt = clock.now()
  let outcome: Outcome
  try {
    outcome = await next(headers === undefined ? call : sendingHeaders(call, headers))
  } catch (error) {
    // The caller's own abort is an answer the caller asked for, not a failure to hide.
    if (!fallback || call.signal?.aborted === true) throw error
    return r.fallBack(call, variant, undefined)
  }
  if (fallback && isServerError(outcome)) return r.fallBack(call, variant, outcome)
  const exchange = { sentAt, receivedAt: clock.now() }
  if (headers === undefined || outcome.kind !== 'http' || outcome.status !== 304) {
    const kept = await keeper.store(call, outcome, exchange, set)
    return withStatus(outcome, kept === undefined ? `fwd=${reason}` : `fwd=${reason}; stored`)
  }
  counters.notModified++
  const merged = mergeNotModified(variant.outcome, outcome)
  // A 304 for another representation: the stored one cannot be used, so fetch it whole.
  if (merged === undefined) return r.forward(call, next, reason, set)
  const updated = await keeper.store(call, merged, exchange, set)
  const status = `fwd=${reason}; fwd-status=304`
  if (updated !== undefined) return r.served(call, updated, status, exchange.receivedAt)
  return withStatus(merged, status)
}

/** Serves, revalidates and stores the variants of calls under HTTP caching. */
export function createHttpCache(
  ctx: StageContext,
  io: StoreIo,
  keeper: HttpKeeper,
  refresher: Refresher,
): HttpCache {
  const { clock, counters, events } = ctx
  const r = createResponder(ctx, keeper)
  const { missed, stale, served, forward } = r
  const revalidating = (
    call: Call,
    next: Next,
    variant: Variant,
    set: VariantSet,
    reason: 'stale' | 'request',
    fallback: boolean,
  ) => revalidate(ctx, keeper, r, call, next, variant, set, reason, fallback)

  const serve = async (call: Call, next: Next): Promise<Outcome> => {
    const set = await io.readSet(call)
    const now = clock.now()
    const variant =
      set === undefined || call.cacheMode === 'reload' ? undefined : selectVariant(set, call, now)
    const { directives: request, conditional } = readRequest(call.details.headers)
    if (variant === undefined) {
      missed(call)
      if (request.onlyIfCached || call.cacheMode === 'only-if-cached') return gatewayTimeout(call)
      const fwd = call.cacheMode === 'reload' ? 'request' : set ? 'vary-miss' : 'uri-miss'
      return forward(call, next, fwd, set)
    }
    const reuse = reuseOf(variant, request, call.cacheMode, now)
    const remaining = variant.times.freshUntil - now
    switch (reuse.kind) {
      case 'fresh':
        counters.cacheHits++
        if (events.wants('hit')) events.emit({ type: 'hit', ...eventBase(call) })
        return served(call, variant, hitStatus(remaining), now, conditional)
      case 'stale':
        stale(call, 'revalidate')
        return served(call, variant, hitStatus(remaining), now, conditional)
      case 'background':
        refresher.refresh(call, (c) =>
          revalidating(c, next, variant, set as VariantSet, 'stale', false),
        )
        stale(call, 'revalidate')
        return served(call, variant, hitStatus(remaining), now, conditional)
      case 'refuse':
        missed(call)
        return gatewayTimeout(call)
      default:
        missed(call)
        // A stored error is no better than a fresh one: stale-if-error stands in with answers only.
        return revalidating(
          call,
          next,
          variant,
          set as VariantSet,
          reuse.reason,
          reuse.fallback && variant.outcome.status < 500,
        )
    }
  }

  const entries: CacheEntries = {
    async fresh(call) {
      const set = await io.lookupSet(call)
      const now = clock.now()
      const variant = set === undefined ? undefined : selectVariant(set, call, now)
      if (variant === undefined || freshnessOf(variant.times, now) !== 'fresh') return undefined
      keeper.markStored(variant.outcome)
      return variant.outcome
    },
    async save(call, outcome) {
      const now = clock.now()
      const kept = await keeper.store(
        call,
        outcome,
        { sentAt: now, receivedAt: now },
        await io.peekSet(call),
      )
      return kept !== undefined
    },
  }

  return { serve, entries }
}
