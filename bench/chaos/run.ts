import { parseArgs } from 'node:util'
import { readFlags, selectScenarios } from '../runner-args.js'
import { RedisProcess } from './redis-process.js'
import { createChaosReport, formatChaosReport, writeChaosReport } from './report.js'
import { broken, type ChaosResult } from './scenario.js'
import { chaosScenarios } from './scenarios/index.js'

const usage = `usage: npm run chaos -- [--filter NAME] [--scale N] [--out DIR]

  --filter NAME  run only the scenarios whose name contains NAME
  --scale N      multiply every count by N (default 1; the tests run a small share)
  --out DIR      where chaos.json goes (default: bench/results)
  --help         this text

Starts a private redis-server on a free port (never 6379) and stops it at the end.

scenarios:
${chaosScenarios.map((s) => `  ${s.name.padEnd(18)} ${s.description}`).join('\n')}`

const runner = { name: 'chaos', usage }
const flags = readFlags(runner, () => {
  const { values } = parseArgs({
    options: {
      filter: { type: 'string' },
      scale: { type: 'string', default: '1' },
      out: { type: 'string', default: 'bench/results' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  })
  const scale = Number(values.scale)
  if (!(scale > 0 && scale <= 10))
    throw new Error(`--scale must be in (0, 10], got ${values.scale}`)
  return { ...values, scale }
})
const { filter, selected } = selectScenarios(runner, chaosScenarios, flags.filter)

const redis = await RedisProcess.start()
const results: ChaosResult[] = []
try {
  for (const scenario of selected) {
    console.error(`running ${scenario.name}…`)
    const started = performance.now()
    const log = (line: string) => console.error(line)
    const parts = await scenario.run({ scale: flags.scale, redisUrl: redis.url, log })
    results.push({
      name: scenario.name,
      description: scenario.description,
      ...parts,
      ms: performance.now() - started,
    })
  }
} finally {
  await redis.stop()
}
const report = createChaosReport(results, flags.scale, filter)
console.log(formatChaosReport(report))
console.log(`\nwrote ${await writeChaosReport(report, flags.out)}`)
// A broken invariant fails the run, so that CI can hold it.
if (results.some((r) => broken(r).length > 0)) process.exitCode = 1
