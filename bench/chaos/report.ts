import { mkdir, writeFile } from 'node:fs/promises'
import { cpus } from 'node:os'
import { join } from 'node:path'
import { count, formatTable, span } from '../../src/cli/table.js'
import { broken, type ChaosResult, type Figure } from './scenario.js'

export interface ChaosReport {
  readonly date: string
  readonly node: string
  readonly cpu: string
  readonly scale: number
  readonly filter: string | null
  readonly results: readonly ChaosResult[]
}

export function createChaosReport(
  results: readonly ChaosResult[],
  scale: number,
  filter: string | null,
): ChaosReport {
  const cpu = `${cpus()[0]?.model ?? 'unknown'}, ${cpus().length} cores`
  return { date: new Date().toISOString(), node: process.version, cpu, scale, filter, results }
}

function shown(f: Pick<Figure, 'unit'>, value: number): string {
  if (f.unit === 'ms') return `${count(value)} ms`
  if (f.unit === 'bytes') return `${(value / 1_048_576).toFixed(2)} MiB`
  return count(value)
}

/** One table of every figure, invariants marked, then what broke them. */
export function formatChaosReport(report: ChaosReport): string {
  const rows = report.results.flatMap((r) =>
    r.figures.map((f, i) => [
      i === 0 ? r.name : '',
      f.name,
      shown(f, f.value),
      f.atMost === undefined ? '' : `≤ ${shown(f, f.atMost)}`,
      f.atMost === undefined ? '' : f.value <= f.atMost ? 'ok' : 'BROKEN',
    ]),
  )
  const out = [
    `node ${report.node} · ${report.cpu} · scale ${report.scale}`,
    '',
    formatTable(['scenario', 'figure', 'value', 'invariant', ''], rows, new Set([2])),
  ]
  for (const r of report.results) {
    out.push('', `${r.name} (${span(r.ms)}): ${r.description}`)
    for (const line of r.offenders) out.push(`  ${line}`)
  }
  const failing = report.results.flatMap((r) => broken(r).map((f) => `${r.name}: ${f.name}`))
  out.push('', failing.length === 0 ? 'every invariant holds' : `broken: ${failing.join('; ')}`)
  return out.join('\n')
}

/** Writes `chaos.json` into `dir`, creating it; returns the file's path. */
export async function writeChaosReport(report: ChaosReport, dir: string): Promise<string> {
  await mkdir(dir, { recursive: true })
  const file = join(dir, 'chaos.json')
  await writeFile(file, `${JSON.stringify(report, null, 2)}\n`)
  return file
}
