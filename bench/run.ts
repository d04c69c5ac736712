import { parseArgs } from 'node:util'
import { writeCharts } from './charts.js'
import { redisServer } from './redis.js'
import { createReport, formatReport, writeReport } from './report.js'
import { readFlags, selectScenarios } from './runner-args.js'
import type { Scenario, ScenarioResult } from './scenario.js'
import { bucketDecision } from './scenarios/bucket-decision.js'
import { crossProcess } from './scenarios/cross-process.js'
import { flaky } from './scenarios/flaky.js'
import { herd } from './scenarios/herd.js'
import { hitRate } from './scenarios/hit-rate.js'
import { importTime } from './scenarios/import-time.js'
import { outage } from './scenarios/outage.js'
import { overhead } from './scenarios/overhead.js'
import { queueDrain } from './scenarios/queue-drain.js'
import { quota } from './scenarios/quota.js'
import { redisBucketDecision } from './scenarios/redis-bucket-decision.js'
import { revalidate } from './scenarios/revalidate.js'
import { sharedQuota } from './scenarios/shared-quota.js'

/** Every scenario, in the order they run. A new one is a file in scenarios/ and a line here. */
const scenarios: readonly Scenario[] = [
  importTime,
  overhead,
  hitRate,
  herd,
  flaky,
  outage,
  bucketDecision,
  quota,
  revalidate,
  crossProcess,
  redisBucketDecision,
  sharedQuota,
  queueDrain,
]

const usage = `usage: npm run bench -- [--filter NAME] [--quick] [--out DIR] [--redis URL]

  --filter NAME  run only the scenarios whose name contains NAME
  --quick        fewer and shorter cycles (a quick look, not figures to compare)
  --out DIR      where results.json and the charts go (default: bench/results)
  --redis URL    also run the Redis scenarios against this server (or set REDIS_URL)
  --help         this text

scenarios:
${scenarios.map((s) => `  ${s.name.padEnd(14)} ${s.description}`).join('\n')}`

const runner = { name: 'bench', usage }
const flags = readFlags(
  runner,
  () =>
    parseArgs({
      options: {
        filter: { type: 'string' },
        quick: { type: 'boolean', default: false },
        out: { type: 'string', default: 'bench/results' },
        redis: { type: 'string' },
        help: { type: 'boolean', default: false },
      },
      allowPositionals: false,
      strict: true,
    }).values,
)
const { filter, selected } = selectScenarios(runner, scenarios, flags.filter)

const redis = selected.some((s) => s.redis)
  ? await redisServer(flags.redis ?? process.env.REDIS_URL)
  : undefined
const results: ScenarioResult[] = []
const redisSkipped: string[] = []
for (const scenario of selected) {
  if (scenario.redis && redis?.url === undefined) {
    redisSkipped.push(scenario.name)
    console.error(`skipped ${scenario.name}: ${redis?.why ?? 'no Redis'}`)
    continue
  }
  console.error(`running ${scenario.name}…`)
  results.push(await scenario.run({ quick: flags.quick, redisUrl: redis?.url }))
}
const report = createReport(results, flags.quick, filter)
console.log(formatReport(report))
const file = await writeReport(report, flags.out)
console.log(`\nwrote ${file}`)
const charts = await writeCharts(results, flags.out)
console.log(
  'written' in charts
    ? `wrote ${charts.written.length} charts (SVG) in ${flags.out}`
    : `charts skipped: ${charts.skipped}`,
)
console.log(redisNote(redisSkipped, results))
// A failed check means a figure is not what it claims to be: the run must not pass for good.
if (results.some((r) => r.checks.some((c) => !c.ok))) process.exitCode = 1

/** What became of the Redis scenarios; the URL's credentials are never printed. */
function redisNote(skipped: readonly string[], ran: readonly ScenarioResult[]): string {
  const names = new Set(scenarios.filter((s) => s.redis).map((s) => s.name))
  const done = ran.filter((r) => names.has(r.name)).map((r) => r.name)
  // Skipped only when `redisServer` gave a reason, a missing URL among them.
  if (skipped.length > 0) return `redis scenarios skipped (${skipped.join(', ')}): ${redis?.why}`
  return done.length > 0 ? `redis scenarios run: ${done.join(', ')}` : 'no redis scenario selected'
}
