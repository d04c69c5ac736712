import { randomUUID } from 'node:crypto'
import type { Call } from '../core/call.js'
import { eventBase, reportFallback, type StageContext } from '../core/context.js'
import { IdempotencyConflictError, IdempotencyUnknownOutcomeError } from '../core/errors.js'
import type { Outcome } from '../core/outcome.js'
import type { Next, Stage } from '../core/stage.js'
import { fingerprintOf, isRecordable, recordKeyOf } from './fingerprint.js'
import { MemoryRecordStore } from './memory-record-store.js'
import type { ResolvedIdempotency } from './options.js'
import type { ClaimNotes, RecordedOutcome, RecordStore } from './record-store.js'
import { sentMark } from './sent-mark.js'

export interface IdempotencyStage {
  readonly stage: Stage
  /** Closes the record store, when the stage made it itself. */
  close(): Promise<void>
}

/** Stripe's marker on an answer that was replayed, not produced again. */
const replayedHeader = 'idempotent-replayed'

/**
 * Makes non-idempotent calls safe to retry. An HTTP call whose method is in `methods`, or that
 * carries the caller's own key, is sent with the key in `header`: the caller's, or a UUID
 * minted here once per logical call, so every retry below sends the same one. With a key the
 * call becomes retryable.
 *
 * With `replay`, a call carrying the caller's key claims a record (scoped by its credentials)
 * before going upstream; its terminal outcome is recorded for `ttl`, and a repeat of the key
 * gets that outcome without an upstream call. A repeat with another method, URL or body (or
 * other arguments, for `wrap`) fails with `IdempotencyConflictError`; a repeat while the first
 * is in flight waits for its outcome, or fails, as `concurrent` says. Failures another attempt
 * may cure, thrown errors and the caller's abort free the record instead, so a later call can
 * try again. The record is marked sent as the call's first attempt leaves (one more round trip
 * to the store, through `call.beforeSend`). A record whose holder's lease lapsed with no outcome
 * after that mark (it died or stalled, perhaps after sending) is abandoned: the next call of the
 * key sends it again, or fails with `IdempotencyUnknownOutcomeError` without sending, as
 * `unknownOutcome` says; one whose holder died before it is free, and simply sent. A minted key
 * never repeats, so those calls skip the store.
 */
export function createIdempotencyStage(
  ctx: StageContext,
  idempotency: ResolvedIdempotency,
  store?: RecordStore,
): IdempotencyStage {
  // The lease is short, so that the record of a holder that died is known abandoned soon, and
  // renewed every third of it while the call runs, so that a slow call keeps it.
  const { methods, header, replay, ttl, concurrent, lease: leaseMs, unknownOutcome } = idempotency
  const records = store ?? new MemoryRecordStore({ maxRecords: idempotency.maxRecords })

  const stage: Stage = (call, next) => {
    const given = call.idempotencyKey
    if (call.kind === 'value') {
      return replay && given !== undefined ? guarded(call, given, next) : next(call)
    }
    if (given === undefined && !methods.has(call.method)) return next(call)
    const key = given ?? randomUUID()
    const headers = new Headers(call.headers)
    headers.set(header, key)
    const keyed: Call = { ...call, headers, idempotencyKey: key, resendable: true }
    return replay && given !== undefined ? guarded(keyed, key, next) : next(keyed)
  }

  async function guarded(call: Call, key: string, next: Next): Promise<Outcome> {
    const recordKey = recordKeyOf(call, key)
    const fingerprint = fingerprintOf(call)
    for (;;) {
      call.signal?.throwIfAborted()
      const claim = await records.claim(recordKey, fingerprint, leaseMs, ttl)
      report(call, claim)
      if (claim.status === 'claimed') {
        const rule = call.unknownOutcome ?? unknownOutcome
        if (claim.abandoned) await takeOver(ctx, records, call, rule, key, recordKey, claim.token)
        return run(call, next, recordKey, claim.token, claim.abandoned === true)
      }
      if (claim.status === 'done') return replayed(ctx, call, claim.outcome)
      if (claim.status === 'conflict') {
        const what = call.kind === 'http' ? 'method, URL or body' : 'arguments'
        throw new IdempotencyConflictError(
          `idempotency key "${key}" was already used for a different request (its ${what} differ)`,
        )
      }
      if (concurrent === 'reject') {
        throw new IdempotencyConflictError(
          `idempotency key "${key}" is in use by a request still in flight`,
        )
      }
      await records.wait(recordKey, call.signal)
    }
  }

  async function run(
    call: Call,
    next: Next,
    recordKey: string,
    token: string,
    abandoned: boolean,
  ): Promise<Outcome> {
    const mark = abandoned
      ? undefined
      : sentMark(records, recordKey, token, call.idempotencyKey ?? '')
    const renewal = setInterval(() => {
      // A lost lease is not this call's failure: its late `complete` will simply change nothing.
      records.renew(recordKey, token, leaseMs).catch(() => {})
      mark?.retry()
    }, leaseMs / 3)
    renewal.unref()
    let outcome: Outcome
    try {
      // The transport streams a body nobody else will see; a recorded one will be replayed, so
      // it must arrive whole.
      outcome = await next({ ...call, buffered: true, beforeSend: mark?.beforeSend })
    } catch (error) {
      await records.release(recordKey, token).catch(() => false)
      throw error
    } finally {
      clearInterval(renewal)
    }
    // A store failure must not turn a call that happened into an error the caller would retry;
    // the record is let go instead, and the lease ends it if even that fails.
    const recorded =
      isRecordable(outcome) &&
      (await records.complete(recordKey, token, outcome, ttl).catch(() => false))
    if (!recorded) await records.release(recordKey, token).catch(() => false)
    return outcome
  }

  /** Tells what the store met on the way: a bad record, a fallback to the in-process store. */
  function report(call: Call, { badRecord, fallback }: ClaimNotes): void {
    if (badRecord !== undefined && ctx.events.wants('recordError')) {
      ctx.events.emit({ type: 'recordError', ...eventBase(call), error: badRecord })
    }
    if (fallback !== undefined) reportFallback(ctx, call, 'record', fallback)
  }

  return {
    stage,
    close: async () => {
      if (store === undefined) await records.close()
    },
  }
}

/** A recorded outcome as a repeat gets it, marked replayed; counted and reported. */
function replayed(ctx: StageContext, call: Call, outcome: RecordedOutcome): Outcome {
  ctx.counters.idempotentReplays++
  if (ctx.events.wants('replay')) ctx.events.emit({ type: 'replay', ...eventBase(call) })
  if (outcome.kind === 'value') return outcome
  const headers = outcome.headers.filter(([name]) => name !== replayedHeader)
  return { ...outcome, headers: [...headers, [replayedHeader, 'true']] }
}

/**
 * Counts and reports the abandoned record a call took over; under the rule `'fail'` gives it
 * back, abandoned still (the next call of the key is told the same), and throws.
 */
async function takeOver(
  ctx: StageContext,
  records: RecordStore,
  call: Call,
  rule: 'resend' | 'fail',
  key: string,
  recordKey: string,
  token: string,
): Promise<void> {
  ctx.counters.unknownOutcomes++
  if (ctx.events.wants('unknownOutcome')) {
    ctx.events.emit({ type: 'unknownOutcome', ...eventBase(call), rule })
  }
  if (rule === 'resend') return
  await records.release(recordKey, token).catch(() => false)
  throw new IdempotencyUnknownOutcomeError(key)
}
