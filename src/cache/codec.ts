import { decodeOutcome, encodeOutcome } from '../http/outcome-codec.js'
import { type CacheEntry, isEntry, isTimes } from './entry.js'
import { isVariantSet, type VariantSet } from './variant.js'

/** How entries are written to a store and read back; what does not read back is a miss. */
export interface EntryCodec {
  encode(entry: CacheEntry): unknown
  decode(value: unknown): CacheEntry | undefined
  /** The variants of a URL, as `encode` writes an entry. */
  encodeSet(set: VariantSet): unknown
  decodeSet(value: unknown): VariantSet | undefined
}

/** For the in-memory store, which keeps objects as they are: nothing to convert. */
export const rawCodec: EntryCodec = {
  encode: (entry) => entry,
  decode: (value) => (isEntry(value) ? value : undefined),
  encodeSet: (set) => set,
  decodeSet: (value) => (isVariantSet(value) ? value : undefined),
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
  encodeSet(set) {
    return {
      variants: set.variants.map((variant) => ({
        ...variant,
        outcome: encodeOutcome(variant.outcome),
      })),
    }
  },
  decodeSet(value) {
    if (typeof value !== 'object' || value === null) return undefined
    const { variants } = value as { variants?: unknown }
    if (!Array.isArray(variants)) return undefined
    const decoded = {
      variants: variants.map((variant: unknown) =>
        typeof variant === 'object' && variant !== null
          ? { ...variant, outcome: decodeOutcome((variant as { outcome?: unknown }).outcome) }
          : variant,
      ),
    }
    return isVariantSet(decoded) ? decoded : undefined
  },
}
