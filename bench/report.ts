import { mkdir, writeFile } from 'node:fs/promises'
import { cpus } from 'node:os'
import { join } from 'node:path'
import { count, formatTable, percent } from '../src/cli/table.js'
import type { Counted, ScenarioResult, Unit } from './scenario.js'

export interface Report {
  readonly date: string
  readonly node: string
  readonly cpu: string
  readonly platform: string
  readonly quick: boolean
  readonly filter: string | null
  readonly scenarios: readonly ScenarioResult[]
}

export function createReport(
  scenarios: readonly ScenarioResult[],
  quick: boolean,
  filter: string | null,
): Report {
  return {
    date: new Date().toISOString(),
    node: process.version,
    cpu: cpus()[0]?.model ?? 'unknown',
    platform: `${process.platform} ${process.arch}`,
    quick,
    filter,
    scenarios,
  }
}

/** Writes `results.json` into `dir`, creating it; returns the file's path. */
export async function writeReport(report: Report, dir: string): Promise<string> {
  await mkdir(dir, { recursive: true })
  const file = join(dir, 'results.json')
  await writeFile(file, `${JSON.stringify(report, null, 2)}\n`)
  return file
}

/** One table of every figure, then each scenario's ratios and checks. */
export function formatReport(report: Report): string {
  const header = ['scenario', 'subject', 'ops/s', 'mean/op', 'p50', 'p99', '±', 'vs floor']
  const rows = report.scenarios.flatMap((s) =>
    s.figures.map((f) => [
      s.name,
      f.subject,
      Math.round(f.opsPerSecond).toLocaleString('en-US'),
      duration(f.meanNs),
      f.p50Ns === null ? '–' : duration(f.p50Ns),
      f.p99Ns === null ? `– (${f.batch}/sample)` : duration(f.p99Ns),
      `${f.rmePercent.toFixed(1)}%`,
      f.subject === f.floor ? 'floor' : `${times(f.ratioToFloor)} ${f.floor}`,
    ]),
  )
  const out = [
    `node ${report.node} · ${report.cpu} · ${report.platform}${report.quick ? ' · --quick' : ''}`,
  ]
  // Counted scenarios have no timed figures: a run of them alone prints no empty table.
  if (rows.length > 0) out.push('', formatTable(header, rows, new Set([2, 3, 4, 5, 6])))
  for (const s of report.scenarios) {
    out.push('', `${s.name}: ${s.description}`)
    if (s.counted !== undefined) out.push(...countedLines(s.counted))
    for (const r of s.ratios) {
      const goal =
        r.goalBelow === null
          ? ''
          : ` (goal < ${goalText(r.goalBelow)}: ${r.met ? 'met' : 'NOT met'})`
      out.push(`  ${r.name}: ${times(r.value)}${goal}`)
    }
    for (const c of s.checks) out.push(`  ${c.ok ? 'ok ' : 'FAILED'} ${c.name}: ${c.detail}`)
  }
  return out.join('\n')
}

/** A counted table, indented under its scenario, then how each subject is configured. */
function countedLines(counted: Counted): string[] {
  const header = ['case', 'subject', ...counted.columns.map((c) => c.name)]
  const rows = counted.rows.map((r) => [
    r.case,
    r.role === 'ceiling' ? `(${r.subject})` : r.subject,
    ...r.values.map((v, i) => (v === null ? '–' : value(v, counted.columns[i]?.unit ?? 'count'))),
  ])
  const numeric = new Set([...header.keys()].filter((i) => i >= 2))
  return [
    ...formatTable(header, rows, numeric)
      .split('\n')
      .map((line) => `  ${line}`),
    '  configured:',
    ...Object.entries(counted.configs).map(([name, config]) => `    ${name}: ${config}`),
  ]
}

function value(v: number, unit: Unit): string {
  switch (unit) {
    case 'share':
      return percent(v)
    case 'count':
      return count(v)
    case 'ms':
      return v < 10 ? `${v.toFixed(2)} ms` : `${count(v)} ms`
    case 'times':
      return times(v)
  }
}

function duration(ns: number): string {
  if (ns < 1_000) return `${ns.toFixed(1)} ns`
  if (ns < 1_000_000) return `${(ns / 1_000).toFixed(2)} µs`
  return `${(ns / 1_000_000).toFixed(2)} ms`
}

function times(value: number): string {
  return value < 10 ? `${value.toFixed(2)}x` : `${value.toFixed(0)}x`
}

function goalText(value: number): string {
  return value >= 1 ? `${value}x` : `1/${Math.round(1 / value)}`
}
