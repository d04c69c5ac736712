/** Validators for options: every message names the option and the value it got. */

export function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value)
  if (typeof value === 'function') return 'a function'
  if (Array.isArray(value)) return `[${value.map(show).join(', ')}]`
  if (value !== null && typeof value === 'object') return 'an object'
  return String(value)
}

export function checkKeys(name: string, value: object, known: readonly string[]): void {
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) {
      throw new TypeError(`${name}.${key} is not an option; known: ${known.join(', ')}`)
    }
  }
}

export function object<T extends object>(
  name: string,
  value: unknown,
  known: readonly string[],
): T {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TypeError(`${name} must be an object or false, got ${show(value)}`)
  }
  checkKeys(name, value, known)
  return value as T
}

/** A finite number in [`min`, `max`] (ms, bytes, ratios, rates). */
export function number(
  name: string,
  value: unknown,
  fallback: number,
  min = 0,
  max = Number.MAX_VALUE,
): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || Number.isNaN(value)) {
    throw new TypeError(`${name} must be a number, got ${show(value)}`)
  }
  if (!Number.isFinite(value) || value < min) {
    throw new RangeError(`${name} must be a finite number ≥ ${min}, got ${show(value)}`)
  }
  if (value > max) throw new RangeError(`${name} must be at most ${max}, got ${show(value)}`)
  return value
}

/** Longest wait a Node timer can hold; a longer one fires at once. */
export const maxTimerMs = 2_147_483_647

/**
 * Longest wait taken from a server (`Retry-After`, a rate-limit reset, a body's retry delay):
 * one hour. A longer one is clamped to it, so that a server's nonsense (a year, a date far off)
 * never parks a call or a bucket beyond what anyone would wait for.
 */
export const maxServerWaitMs = 3_600_000

/**
 * A duration in ms: `min` ≤ value ≤ `maxTimerMs` (about 24.8 days). Every duration is held to
 * what a timer can wait for, and so to what Redis `PX` and lru-cache take as a TTL.
 */
export function timerMs(name: string, value: unknown, fallback: number, min = 0): number {
  const ms = number(name, value, fallback, min)
  if (ms > maxTimerMs) {
    throw new RangeError(`${name} must be at most ${maxTimerMs} ms, got ${show(value)}`)
  }
  return ms
}

/** A string with something in it: a name, a method, a namespace. */
export const isNonEmptyString = (value: unknown): value is string =>
  typeof value === 'string' && value.length > 0

/** An integer in [`min`, `max`] (counts). */
export function integer(
  name: string,
  value: unknown,
  fallback: number,
  min = 0,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || Number.isNaN(value)) {
    throw new TypeError(`${name} must be an integer, got ${show(value)}`)
  }
  if (!Number.isInteger(value) || value < min) {
    throw new RangeError(`${name} must be an integer ≥ ${min}, got ${show(value)}`)
  }
  if (value > max) throw new RangeError(`${name} must be at most ${max}, got ${show(value)}`)
  return value
}

/**
 * Most entries a count that sizes memory may ask for (`cache.maxEntries`, `maxRecords`...):
 * lru-cache preallocates its index for `max` up front, about 1 s and 200 MB at this size; at
 * 1e9 the process dies of it.
 */
export const maxMemoryCount = 10_000_000

/** A count that sizes memory: an integer in [1, `maxMemoryCount`]. */
export function memoryCount(name: string, value: unknown, fallback: number): number {
  return integer(name, value, fallback, 1, maxMemoryCount)
}

export function boolean(name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback
  if (typeof value !== 'boolean')
    throw new TypeError(`${name} must be a boolean, got ${show(value)}`)
  return value
}

export function oneOf<T extends string>(
  name: string,
  value: unknown,
  fallback: T,
  choices: readonly T[],
): T {
  if (value === undefined) return fallback
  if (!choices.includes(value as T)) {
    throw new RangeError(
      `${name} must be one of ${choices.map(show).join(', ')}, got ${show(value)}`,
    )
  }
  return value as T
}

export function func<F>(name: string, value: unknown): F | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'function')
    throw new TypeError(`${name} must be a function, got ${show(value)}`)
  return value as F
}

export function list<T>(
  name: string,
  value: unknown,
  fallback: readonly T[],
  each: (v: unknown) => boolean,
  what: string,
): readonly T[] {
  if (value === undefined) return fallback
  if (!Array.isArray(value)) throw new TypeError(`${name} must be an array, got ${show(value)}`)
  for (const item of value) {
    if (!each(item)) throw new TypeError(`${name} must hold ${what}, got ${show(item)}`)
  }
  return value as T[]
}

/** A cache tag as `invalidateTag` takes it: a non-empty string. */
export function checkTag(tag: unknown): string {
  if (!isNonEmptyString(tag))
    throw new TypeError(`tag must be a non-empty string, got ${show(tag)}`)
  return tag
}
