/**
 * `Vary` (RFC 9110 §12.5.5): which request fields an answer depends on, and those fields as two
 * requests are compared. Shared by the cache (variants) and the coalescer (who may share).
 */
import type { HttpOutcome } from '../core/outcome.js'

/**
 * The field names a response varies on, lower-case; `'*'` when it varies on something no
 * request field shows (it can then never be selected).
 */
export function varyOf(outcome: HttpOutcome): readonly string[] | '*' {
  const names: string[] = []
  for (const [name, value] of outcome.headers) {
    if (name !== 'vary') continue
    for (const part of value.split(',')) {
      const field = part.trim().toLowerCase()
      if (field === '*') return '*'
      if (field !== '' && !names.includes(field)) names.push(field)
    }
  }
  return names
}

/**
 * A request field as a variant compares it: list members trimmed and joined by `, `, so that
 * `a,b` and `a, b` select the same variant (RFC 9111 §4.1 allows this normalization).
 */
export function fieldValue(headers: Headers, name: string): string | null {
  const value = headers.get(name)
  if (value === null) return null
  return value.includes(',')
    ? value
        .split(',')
        .map((part) => part.trim())
        .join(', ')
    : value.trim()
}

/** True when two requests agree on every field the answer varies on (never under `Vary: *`). */
export function sameVaryingFields(
  vary: readonly string[] | '*',
  a: Headers | undefined,
  b: Headers | undefined,
): boolean {
  if (vary === '*') return false
  const empty = new Headers()
  return vary.every((name) => fieldValue(a ?? empty, name) === fieldValue(b ?? empty, name))
}
