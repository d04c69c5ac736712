import { parseArgs } from 'node:util'
import { createReport, formatReport, writeReport } from './report.js'
import type { Scenario, ScenarioResult } from './scenario.js'
import { overhead } from './scenarios/overhead.js'

/** Every scenario, in the order they run. A new one is a file in scenarios/ and a line here. */
const scenarios: readonly Scenario[] = [overhead]

const usage = `usage: npm run bench -- [--filter NAME] [--quick] [--out DIR]

  --filter NAME  run only the scenarios whose name contains NAME
  --quick        fewer and shorter cycles (a quick look, not figures to compare)
  --out DIR      where results.json goes (default: bench/results)
  --help         this text

scenarios:
${scenarios.map((s) => `  ${s.name.padEnd(14)} ${s.description}`).join('\n')}`

function parse() {
  try {
    return parseArgs({
      options: {
        filter: { type: 'string' },
        quick: { type: 'boolean', default: false },
        out: { type: 'string', default: 'bench/results' },
        help: { type: 'boolean', default: false },
      },
      allowPositionals: false,
      strict: true,
    }).values
  } catch (error) {
    console.error(`bench: ${(error as Error).message}\n\n${usage}`)
    process.exit(2)
  }
}

const flags = parse()
if (flags.help) {
  console.log(usage)
  process.exit(0)
}
const filter = flags.filter ?? null
const selected = scenarios.filter((s) => filter === null || s.name.includes(filter))
if (selected.length === 0) {
  console.error(`bench: no scenario name contains ${JSON.stringify(filter)}\n\n${usage}`)
  process.exit(2)
}

const results: ScenarioResult[] = []
for (const scenario of selected) {
  console.error(`running ${scenario.name}…`)
  results.push(await scenario.run({ quick: flags.quick }))
}
const report = createReport(results, flags.quick, filter)
console.log(formatReport(report))
const file = await writeReport(report, flags.out)
console.log(`\nwrote ${file}`)
// A failed check means a figure is not what it claims to be: the run must not pass for good.
if (results.some((r) => r.checks.some((c) => !c.ok))) process.exitCode = 1
