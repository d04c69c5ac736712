import type { HttpOutcome } from '../core/outcome.js'

/** The first value of a header in an outcome's list (names are stored lower-case). */
export function headerOf(outcome: HttpOutcome, name: string): string | undefined {
  for (const [key, value] of outcome.headers) if (key === name) return value
  return undefined
}

import type { Outcome } from '../core/outcome.js'

/**
 * True when the answer sets a cookie. A cookie belongs to the one client whose request caused
 * it: handed to other callers (stored, or shared by a flight) it would leak that session.
 */
export function setsCookie(outcome: Outcome): boolean {
  if (outcome.kind !== 'http') return false
  return outcome.headers.some(([name]) => name === 'set-cookie')
}
