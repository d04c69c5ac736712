import { unknownOutcomes } from '../core/call-options.js'
import {
  isNonEmptyString,
  list,
  memoryCount,
  object,
  oneOf,
  show,
  timerMs,
} from '../core/validate.js'

export interface IdempotencyOptions {
  /** Methods that get an idempotency key. @default ['POST', 'PATCH'] */
  methods?: readonly string[]
  /** The header that carries it. @default 'Idempotency-Key' */
  header?: string
  /** Answer a repeated key with the recorded outcome, without calling upstream. @default true */
  replay?: boolean
  /** ms a recorded outcome is kept. @default 86_400_000 (24 h) */
  ttl?: number
  /** A call whose key is still in flight: `'wait'` for its outcome, or `'reject'`. @default 'wait' */
  concurrent?: 'wait' | 'reject'
  /** Most records kept in memory. @default 10_000 */
  maxRecords?: number
  /**
   * ms a call in flight holds its key unless renewed (every third of it while it runs): a
   * holder that died (a crash, a SIGKILL) leaves its record abandoned after this, for the next
   * claimer to take over. @default 30_000
   */
  lease?: number
  /**
   * What a call does when its key's record was abandoned, kept for `ttl`: an earlier holder's
   * lease lapsed with no outcome, so that holder may have sent the call. `'resend'` sends it
   * again with the same key (an upstream that honours `Idempotency-Key` applies it once);
   * `'fail'` throws `IdempotencyUnknownOutcomeError` without calling upstream. Either way the
   * call is counted in `stats().unknownOutcomes` and reported as an `unknownOutcome` event.
   * A call's own `breakwater.unknownOutcome` overrides it. @default 'resend'
   */
  unknownOutcome?: 'resend' | 'fail'
}

export interface ResolvedIdempotency {
  readonly methods: ReadonlySet<string>
  readonly header: string
  readonly replay: boolean
  readonly ttl: number
  readonly concurrent: 'wait' | 'reject'
  readonly maxRecords: number
  readonly lease: number
  readonly unknownOutcome: 'resend' | 'fail'
}

/** Validates `idempotency`. */
export function resolveIdempotency(value: unknown): ResolvedIdempotency | false {
  if (value === false) return false
  const o = object<IdempotencyOptions>('idempotency', value ?? {}, [
    'methods',
    'header',
    'replay',
    'ttl',
    'concurrent',
    'maxRecords',
    'lease',
    'unknownOutcome',
  ])
  const header = o.header === undefined ? 'Idempotency-Key' : o.header
  if (typeof header !== 'string' || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(header)) {
    throw new TypeError(`idempotency.header must be a header name, got ${show(header)}`)
  }
  if (o.replay !== undefined && typeof o.replay !== 'boolean') {
    throw new TypeError(`idempotency.replay must be a boolean, got ${show(o.replay)}`)
  }
  const methods = list<string>(
    'idempotency.methods',
    o.methods,
    ['POST', 'PATCH'],
    isNonEmptyString,
    'method names',
  )
  return {
    methods: new Set(methods.map((m) => m.toUpperCase())),
    header: header.toLowerCase(),
    replay: o.replay ?? true,
    ttl: timerMs('idempotency.ttl', o.ttl, 86_400_000, 1),
    concurrent: oneOf('idempotency.concurrent', o.concurrent, 'wait', ['wait', 'reject'] as const),
    maxRecords: memoryCount('idempotency.maxRecords', o.maxRecords, 10_000),
    lease: timerMs('idempotency.lease', o.lease, 30_000, 100),
    unknownOutcome: oneOf(
      'idempotency.unknownOutcome',
      o.unknownOutcome,
      'resend',
      unknownOutcomes,
    ),
  }
}
