/** Plain-text tables and the number formats they show. */

/** Columns padded to their widest cell; `numeric` columns align right. */
export function formatTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  numeric: ReadonlySet<number>,
): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (numeric.has(i) ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd()
  return [line(header), line(widths.map((w) => '─'.repeat(w))), ...rows.map(line)].join('\n')
}

/** 0.4567 → `45.7%`; null → `–`. */
export function percent(ratio: number | null): string {
  return ratio === null ? '–' : `${(ratio * 100).toFixed(1)}%`
}

/** 12345 → `12,345`. */
export function count(value: number): string {
  return Math.round(value).toLocaleString('en-US')
}

/** Money without a currency (the cost per call sets it): cents when small, whole units when large. */
export function money(value: number): string {
  const digits = value >= 1_000 ? 0 : value >= 1 ? 2 : 4
  return value.toLocaleString('en-US', {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  })
}

/** A span of time, in the largest unit that keeps it readable: `2h 05m`, `3m 20s`, `45.2s`. */
export function span(ms: number): string {
  const seconds = ms / 1_000
  if (seconds < 60) return `${seconds.toFixed(1)}s`
  const minutes = Math.floor(seconds / 60)
  if (minutes < 60) return `${minutes}m ${String(Math.floor(seconds % 60)).padStart(2, '0')}s`
  const hours = Math.floor(minutes / 60)
  if (hours < 48) return `${hours}h ${String(minutes % 60).padStart(2, '0')}m`
  return `${(hours / 24).toFixed(1)} days`
}
