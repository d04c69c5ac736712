import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { barChartSvg, ChartsUnavailableError, lineChartSvg } from '../src/cli/charts.js'
import type { ScenarioResult } from './scenario.js'

/** What became of the charts: the files written, or why there are none. */
export type ChartsOutcome = { readonly written: readonly string[] } | { readonly skipped: string }

/**
 * Draws every chart the scenarios ask for as SVG into `dir`. Without vega (an optional
 * dependency) the figures still stand: the charts are skipped, and the reason is given.
 */
export async function writeCharts(
  results: readonly ScenarioResult[],
  dir: string,
): Promise<ChartsOutcome> {
  const specs = results.flatMap((r) => r.charts ?? [])
  await mkdir(dir, { recursive: true })
  const written: string[] = []
  try {
    for (const spec of specs) {
      const svg =
        spec.kind === 'line' ? await lineChartSvg(spec.chart) : await barChartSvg(spec.chart)
      const file = join(dir, spec.file)
      await writeFile(file, svg)
      written.push(file)
    }
  } catch (error) {
    if (error instanceof ChartsUnavailableError) return { skipped: error.message }
    throw error
  }
  return { written }
}
