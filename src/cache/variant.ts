/**
 * The stored responses of one URL for one set of credentials, and how a request picks one of
 * them (RFC 9111 §4.1): by method, by the request fields the response's `Vary` names, and by
 * `cache.keyHeaders`, which act as a `Vary` every response of the API implies.
 */
import type { Call } from '../core/call.js'
import type { HttpOutcome } from '../core/outcome.js'
import { fieldValue } from '../http/vary.js'
import { isOutcome, isTimes } from './entry.js'
import type { EntryTimes } from './freshness.js'

/** A request field's value as a variant records it; null when the request had none. */
export type SelectingField = readonly [name: string, value: string | null]

/** One stored response of a URL. */
export interface Variant {
  readonly outcome: HttpOutcome
  readonly times: EntryTimes
  /** ms the response was already old when it arrived (its Age, Date and the response delay). */
  readonly initialAge: number
  /**
   * The key of the call that fetched it: its method, URL, credentials and `cache.keyHeaders`
   * values, which a request must share to be answered by it.
   */
  readonly requestKey: string
  /** The request fields its `Vary` names, with the values the request that fetched it had. */
  readonly selecting: readonly SelectingField[]
  /** It may never be served stale (`must-revalidate`, `no-cache`, or shared `s-maxage`). */
  readonly mustRevalidate: boolean
  /** Clock ms until which it is kept: its last window, or longer to be revalidated. */
  readonly keepUntil: number
  /** Labels given by the calls that stored it, for `cache.invalidateTag`. */
  readonly tags: readonly string[]
}

/** What the store holds under a URL key: its variants, most recently stored first. */
export interface VariantSet {
  readonly variants: readonly Variant[]
}

/** Variants kept per URL and credentials; past it the least recent goes. */
export const maxVariants = 16

/** True when `value` has the shape of a `VariantSet` whose variants all read back whole. */
export function isVariantSet(value: unknown): value is VariantSet {
  if (typeof value !== 'object' || value === null) return false
  const { variants } = value as { variants?: unknown }
  return Array.isArray(variants) && variants.every(isVariant)
}

function isVariant(value: unknown): value is Variant {
  if (typeof value !== 'object' || value === null) return false
  const v = value as Record<keyof Variant, unknown>
  return (
    isOutcome(v.outcome) &&
    (v.outcome as HttpOutcome).kind === 'http' &&
    isTimes(v.times) &&
    Number.isFinite(v.initialAge) &&
    Number.isFinite(v.keepUntil) &&
    typeof v.requestKey === 'string' &&
    typeof v.mustRevalidate === 'boolean' &&
    Array.isArray(v.selecting) &&
    Array.isArray(v.tags)
  )
}

/** The request fields of `call` that select a response varying on `vary`. */
export function selectingOf(call: Call, vary: readonly string[]): SelectingField[] {
  const headers = call.details.headers ?? new Headers()
  return vary.map((name) => [name, fieldValue(headers, name)] as const)
}

/** True when `call` may be answered by `variant`: the same request key, the same varying fields. */
export function selects(variant: Variant, call: Call): boolean {
  if (variant.requestKey !== call.key) return false
  if (variant.selecting.length === 0) return true
  const headers = call.details.headers ?? new Headers()
  for (const [name, value] of variant.selecting) {
    if (fieldValue(headers, name) !== value) return false
  }
  return true
}

/** The variant stored for `call` and still kept at `now`, the most recently stored first. */
export function selectVariant(set: VariantSet, call: Call, now: number): Variant | undefined {
  for (const variant of set.variants) {
    if (variant.keepUntil > now && selects(variant, call)) return variant
  }
  return undefined
}

/** The set with `variant` in front, replacing the one that the same request selected. */
export function withVariant(
  set: VariantSet | undefined,
  variant: Variant,
  now: number,
): VariantSet {
  const rest = (set?.variants ?? []).filter(
    (old) =>
      old.keepUntil > now &&
      !(old.requestKey === variant.requestKey && sameFields(old.selecting, variant.selecting)),
  )
  return { variants: [variant, ...rest].slice(0, maxVariants) }
}

function sameFields(a: readonly SelectingField[], b: readonly SelectingField[]): boolean {
  if (a.length !== b.length) return false
  return a.every(([name, value]) => b.some(([n, v]) => n === name && v === value))
}

/** ms the store must keep the set from `now` on: until its last variant may go. */
export function setRetention(set: VariantSet, now: number): number {
  let end = now
  for (const variant of set.variants) end = Math.max(end, variant.keepUntil)
  return end - now
}
