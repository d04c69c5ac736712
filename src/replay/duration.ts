/**
 * Durations as people write them on a command line (`250ms`, `60s`, `5m`, `1h`, `1d`), to ms
 * and back. Pure.
 */

const unitMs: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
}

const durationPattern = /^(\d+(?:\.\d+)?|\.\d+)(ms|s|m|h|d)$/

/**
 * Reads `250ms`, `60s`, `1.5m`, `1h` or `1d` as ms. A bare number is refused rather than
 * guessed: `--ttl 60` could mean seconds as easily as ms.
 *
 * @throws RangeError naming the text, when it has no unit or is not above 0.
 */
export function parseDuration(text: string): number {
  const match = durationPattern.exec(text.trim())
  if (match === null) {
    throw new RangeError(
      `${JSON.stringify(text)} is not a duration: write a number and a unit (ms, s, m, h, d), like 250ms, 60s, 5m or 1h`,
    )
  }
  const ms = Number(match[1]) * (unitMs[match[2] as string] as number)
  if (!(ms > 0)) throw new RangeError(`${JSON.stringify(text)}: a duration must be above 0`)
  return ms
}

/** The shortest exact way to write `ms` with one unit: 300000 → `5m`, 1500 → `1.5s`. */
export function formatDuration(ms: number): string {
  for (const unit of ['d', 'h', 'm', 's'] as const) {
    const size = unitMs[unit] as number
    const value = ms / size
    // One decimal at most, so that a table column stays short; otherwise a smaller unit.
    if (value >= 1 && Number.isInteger(value * 10)) return `${value}${unit}`
  }
  return `${ms}ms`
}
