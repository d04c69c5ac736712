/**
 * The one rule for copying a wrapped function's value: a structured clone, so that one caller
 * changing its result never changes another caller's or what the cache holds. Values that
 * cannot be cloned (functions, streams, symbols, class instances holding them) have no copy;
 * each caller decides what that means: `wrap` hands the value itself back, the cache does not
 * store it.
 */

/** Values that are their own copy: nothing in them can be changed by a caller. */
const isImmutable = (value: unknown): boolean =>
  value === null ||
  (typeof value !== 'object' && typeof value !== 'function' && typeof value !== 'symbol')

/**
 * A copy of `value`, boxed so that a copy of `undefined` is told apart from no copy; undefined
 * when it cannot be cloned.
 *
 * @example
 * const copy = cloneValue(result)
 * return copy === undefined ? result : copy.value
 */
export function cloneValue(value: unknown): { readonly value: unknown } | undefined {
  if (isImmutable(value)) return { value }
  try {
    return { value: structuredClone(value) }
  } catch {
    return undefined
  }
}
