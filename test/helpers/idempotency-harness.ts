import type { Call } from '../../src/core/call.js'
import type { HttpOutcome, Outcome } from '../../src/core/outcome.js'
import type { Next } from '../../src/core/stage.js'
import { createIdempotencyStage } from '../../src/idempotency/idempotency-stage.js'
import { MemoryRecordStore } from '../../src/idempotency/memory-record-store.js'
import {
  type IdempotencyOptions,
  type ResolvedIdempotency,
  resolveIdempotency,
} from '../../src/idempotency/options.js'
import type { RecordedOutcome } from '../../src/idempotency/record-store.js'
import { type CallOverrides, httpOutcome, makeCall, makeContext } from './call.js'

/**
 * A MemoryRecordStore that logs what the stage asks of it, and can be told to fail `complete` or
 * `markSent`.
 */
export class LoggedStore extends MemoryRecordStore {
  readonly log: string[] = []
  failComplete = false
  failMarkSent = false

  override claim(recordKey: string, fingerprint: string, leaseMs: number, ttlMs: number) {
    this.log.push('claim')
    return super.claim(recordKey, fingerprint, leaseMs, ttlMs)
  }
  override renew(recordKey: string, token: string, leaseMs: number) {
    this.log.push('renew')
    return super.renew(recordKey, token, leaseMs)
  }
  override markSent(recordKey: string, token: string) {
    this.log.push('markSent')
    if (this.failMarkSent) return Promise.reject(new Error('store down'))
    return super.markSent(recordKey, token)
  }
  override complete(recordKey: string, token: string, outcome: RecordedOutcome, ttl: number) {
    this.log.push('complete')
    if (this.failComplete) return Promise.reject(new Error('store down'))
    return super.complete(recordKey, token, outcome, ttl)
  }
  override release(recordKey: string, token: string) {
    this.log.push('release')
    return super.release(recordKey, token)
  }
}

const opened: { close(): Promise<void> }[] = []

/** Closes every stage and store `setup` made; for `afterEach`. */
export async function closeAll(): Promise<void> {
  await Promise.all(opened.splice(0).map((s) => s.close()))
}

/** Options resolved as the front doors resolve them. */
export function resolved(options: IdempotencyOptions = {}): ResolvedIdempotency {
  const idempotency = resolveIdempotency(options)
  if (idempotency === false) throw new Error('idempotency is on')
  return idempotency
}

/** An idempotency stage and its context; `closeAll` closes both it and `store`. */
export function setup(options: IdempotencyOptions = {}, store?: LoggedStore) {
  const ctx = makeContext()
  const idempotency = createIdempotencyStage(ctx, resolved(options), store)
  opened.push(idempotency)
  if (store !== undefined) opened.push(store)
  return { ctx, stage: idempotency.stage }
}

/** A `next` that records each call and answers with `answer(n)` (n counts from 0). */
export function upstream(
  answer: (n: number) => Outcome | Promise<Outcome> = () => httpOutcome(201),
) {
  const sent: Call[] = []
  const next: Next = async (call) => {
    sent.push(call)
    return answer(sent.length - 1)
  }
  return { next, sent }
}

/** A `next` whose answers wait until the test gives them. */
export function held() {
  const answers: ((outcome: Outcome) => void)[] = []
  const { next, sent } = upstream(() => new Promise((resolve) => answers.push(resolve)))
  return { next, sent, answer: (outcome: Outcome) => answers.shift()?.(outcome) }
}

/** A POST as the fetch front door builds it: not retryable, not shared. */
export const post = (overrides: CallOverrides = {}) =>
  makeCall({
    method: 'POST',
    resendable: false,
    coalescible: false,
    cacheable: false,
    ...overrides,
  })

/** A call of a wrapped function named `create`. */
export const valueCall = (overrides: CallOverrides = {}) =>
  makeCall({ kind: 'value', name: 'create', ...overrides })

export const bytes = (text: string) => new TextEncoder().encode(text)

export const headerOf = (outcome: Outcome, name: string) =>
  (outcome as HttpOutcome).headers.find(([n]) => n === name)?.[1]
