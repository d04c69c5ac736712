import type { HttpOutcome } from '../pipeline.js'
import { type CacheEntry, isEntry } from './entry.js'

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
 * For any other Keyv store: Keyv serializes with JSON by default, which would turn a body's
 * bytes into an object of numbered keys; base64 survives JSON and any serializer after it.
 */
export const jsonCodec: EntryCodec = {
  encode(entry) {
    const { outcome } = entry
    if (outcome.kind !== 'http') return entry
    const { body, ...rest } = outcome
    const body64 = body instanceof Uint8Array ? Buffer.from(body).toString('base64') : null
    const encoded: EncodedHttp = { ...rest, body64 }
    return { times: entry.times, outcome: encoded }
  },
  decode(value) {
    if (typeof value !== 'object' || value === null) return undefined
    const { outcome, times } = value as { outcome?: unknown; times?: unknown }
    if (typeof outcome !== 'object' || outcome === null) return undefined
    const { body64, ...rest } = outcome as Partial<EncodedHttp>
    if (!('body64' in outcome)) return isEntry(value) ? value : undefined
    if (body64 !== null && typeof body64 !== 'string') return undefined
    const body = body64 === null ? null : new Uint8Array(Buffer.from(body64, 'base64'))
    const entry = { times, outcome: { ...rest, body } }
    return isEntry(entry) ? entry : undefined
  },
}
