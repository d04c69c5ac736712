import type { HttpOutcome, Outcome } from '../pipeline.js'
import { type CacheEntry, isEntry, isOutcome, isTimes } from './entry.js'

/** How entries are written to a store and read back; what does not read back is a miss. */
export interface EntryCodec {
  encode(entry: CacheEntry): unknown
  decode(value: unknown): CacheEntry | undefined
}

/** For the in-memory store, which keeps objects as they are: nothing to convert. */
export const rawCodec: EntryCodec = {
  encode: (entry) => entry,
  decode: (value) => (isEntry(value) ? value : undefined),
}

interface EncodedHttp extends Omit<HttpOutcome, 'body'> {
  /** The body as base64: JSON has no bytes, and a store may serialize with JSON. */
  readonly body64: string | null
}

/**
 * An outcome as JSON can carry it: an HTTP body as base64. Shared by every store that keeps
 * outcomes as text (the Keyv stores, Redis idempotency records).
 */
export function encodeOutcome(outcome: Outcome): unknown {
  if (outcome.kind !== 'http') return outcome
  const { body, ...rest } = outcome
  const body64 = body instanceof Uint8Array ? Buffer.from(body).toString('base64') : null
  const encoded: EncodedHttp = { ...rest, body64 }
  return encoded
}

/**
 * `encodeOutcome` read back after a JSON round trip; `undefined` for whatever is not one. A
 * value outcome whose value was `undefined` comes back as one (JSON drops the field).
 */
export function decodeOutcome(value: unknown): Outcome | undefined {
  if (typeof value !== 'object' || value === null) return undefined
  const o = value as Record<string, unknown>
  if (o.kind === 'value')
    return 'value' in o ? (value as Outcome) : { kind: 'value', value: undefined }
  if (!('body64' in o)) return isOutcome(value) ? value : undefined
  const { body64, ...rest } = o
  if (body64 !== null && typeof body64 !== 'string') return undefined
  const body = body64 === null ? null : new Uint8Array(Buffer.from(body64, 'base64'))
  const outcome = { ...rest, body }
  return isOutcome(outcome) ? outcome : undefined
}

/**
 * For any other Keyv store: Keyv serializes with JSON by default, which would turn a body's
 * bytes into an object of numbered keys; base64 survives JSON and any serializer after it.
 */
export const jsonCodec: EntryCodec = {
  encode(entry) {
    if (entry.outcome.kind !== 'http') return entry
    return { times: entry.times, outcome: encodeOutcome(entry.outcome) }
  },
  decode(value) {
    if (typeof value !== 'object' || value === null) return undefined
    const { outcome, times } = value as { outcome?: unknown; times?: unknown }
    const decoded = decodeOutcome(outcome)
    if (decoded === undefined || !isTimes(times)) return undefined
    // An outcome kept as it is (a value, bytes-free JSON): the value read is the entry itself.
    return decoded === outcome ? (value as CacheEntry) : { times, outcome: decoded }
  },
}
