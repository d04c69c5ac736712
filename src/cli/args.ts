/**
 * Command-line parsing shared by the subcommands: flags through node:util's parseArgs, lists
 * and numbers checked with messages that name the flag and the bad value.
 */
import { parseDuration } from '../replay/duration.js'

/** Wrong use of the command: the message says what was wrong; the exit code is 2. */
export class UsageError extends Error {
  override name = 'UsageError'
}

/**
 * Runs node:util's `parseArgs` (strict), turning its complaints (an unknown flag, a missing
 * value) into `UsageError`s, and refuses positionals past the first `positionals`.
 */
export function parseFlags<R extends { positionals: string[] }>(
  parse: () => R,
  positionals = 0,
): R {
  let parsed: R
  try {
    parsed = parse()
  } catch (error) {
    throw new UsageError(plain((error as Error).message))
  }
  if (parsed.positionals.length > positionals) {
    throw new UsageError(`unexpected argument ${JSON.stringify(parsed.positionals[positionals])}`)
  }
  return parsed
}

/** parseArgs' messages advise on `--` for positionals starting with a dash; ours need none. */
function plain(message: string): string {
  const unknown = /^Unknown option '([^']+)'/.exec(message)
  if (unknown !== null) return `unknown flag ${unknown[1]}`
  return message.replace(/\. To specify a positional argument.*$/s, '')
}

/** A comma-separated list, each item read by `read`; an empty item is an error. */
export function parseList<T>(flag: string, text: string, read: (item: string) => T): T[] {
  return text.split(',').map((item) => {
    if (item.trim() === '') throw new UsageError(`${flag}: empty item in ${JSON.stringify(text)}`)
    try {
      return read(item.trim())
    } catch (error) {
      throw new UsageError(`${flag}: ${(error as Error).message}`)
    }
  })
}

/** `1000`, `10_000` or `10k`/`1M`: a whole number ≥ 1. */
export function parseCount(text: string): number {
  const match = /^(\d[\d_]*)([kKM]?)$/.exec(text)
  const value =
    match === null
      ? Number.NaN
      : Number((match[1] as string).replaceAll('_', '')) *
        (match[2] === '' ? 1 : match[2] === 'M' ? 1_000_000 : 1_000)
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new RangeError(`${JSON.stringify(text)} is not a whole number ≥ 1 (like 1000, 10k or 1M)`)
  }
  return value
}

/** A finite number, at least `min` (above it when `strict`). */
export function parseNumber(flag: string, text: string, min: number, strict = false): number {
  const value = text.trim() === '' ? Number.NaN : Number(text)
  if (!Number.isFinite(value) || value < min || (strict && value === min)) {
    throw new UsageError(
      `${flag}: ${JSON.stringify(text)} is not a number ${strict ? 'above' : 'of at least'} ${min}`,
    )
  }
  return value
}

/** Reads a flag's count, turning a bad one into a `UsageError` naming the flag. */
export function countFlag(flag: string, text: string): number {
  try {
    return parseCount(text)
  } catch (error) {
    throw new UsageError(`${flag}: ${(error as Error).message}`)
  }
}

/** Sizes: `--max-entries 100,1k,10k`, sorted and without repeats. */
export function parseSizes(text: string): number[] {
  return unique(parseList('--max-entries', text, parseCount))
}

/** TTLs: `--ttl 60s,5m`, sorted and without repeats. */
export function parseTtls(text: string): number[] {
  return unique(parseList('--ttl', text, parseDuration))
}

function unique(values: number[]): number[] {
  return [...new Set(values)].sort((a, b) => a - b)
}
