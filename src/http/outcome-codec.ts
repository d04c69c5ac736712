import { isOutcome } from '../cache/entry.js'
import type { HttpOutcome, Outcome } from '../core/outcome.js'

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
