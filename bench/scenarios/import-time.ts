import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import {
  type Check,
  type CountedRow,
  countedResult,
  type Ratio,
  type Scenario,
} from '../scenario.js'

const run = promisify(execFile)

/** What is imported, by whom: the package's own entry points, built, and the peers. */
const subjects = [
  { name: 'breakwater', specifier: 'breakwater', role: 'subject' },
  { name: 'breakwater/ai', specifier: 'breakwater/ai', role: 'subject' },
  { name: 'p-retry', specifier: 'p-retry', role: 'peer' },
  { name: 'cockatiel', specifier: 'cockatiel', role: 'peer' },
] as const

/** The import-time goal for `import('breakwater')` on the machine the README figure is from. */
const goalMs = 60

/** Packages that nothing needs before the first call: importing breakwater must load none. */
const deferred = ['undici', '@redis/client', '@keyv/redis']

/**
 * The child: times one `import()` in a fresh process (Node's own start-up excluded), then says
 * which of the deferred packages it loaded. They are CommonJS or load CommonJS, so
 * `require.cache` holds them once imported, however they were reached.
 */
const child = `
import { createRequire } from 'node:module'
const start = performance.now()
await import(process.argv[1])
const ms = performance.now() - start
const files = Object.keys(createRequire(import.meta.url).cache)
const loaded = ${JSON.stringify(deferred)}.filter((name) =>
  files.some((file) => file.includes('/node_modules/' + name + '/')))
console.log(JSON.stringify({ ms, loaded }))
`

interface Sample {
  readonly ms: number
  readonly loaded: readonly string[]
}

async function sample(specifier: string): Promise<Sample> {
  // From the repository root: 'breakwater' resolves to the package itself (its `exports`).
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', child, specifier])
  return JSON.parse(stdout) as Sample
}

const quantile = (sorted: readonly number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number

/**
 * What `import('breakwater')` costs an app at start-up, beside what p-retry and cockatiel cost
 * in the same run: each imported in a fresh `node` process, taking turns so that the machine's
 * load falls on all alike. The package is built first: what is timed is what ships.
 */
export const importTime: Scenario = {
  name: 'import-time',
  description: `import() of the built package in a fresh node process, beside p-retry and cockatiel (goal < ${goalMs} ms)`,
  async run(options) {
    await run('npm', ['run', '--silent', 'build'])
    const rounds = options.quick ? 5 : 30
    const samples = new Map<string, Sample[]>(subjects.map((s) => [s.name, []]))
    // One unmeasured round first: the first reads of each file come from disk, later ones not.
    for (const s of subjects) await sample(s.specifier)
    for (let round = 0; round < rounds; round++) {
      for (const s of subjects) samples.get(s.name)?.push(await sample(s.specifier))
    }
    const median = new Map<string, number>()
    const rows: CountedRow[] = subjects.map((s) => {
      const ms = (samples.get(s.name) ?? []).map((x) => x.ms).sort((a, b) => a - b)
      median.set(s.name, quantile(ms, 0.5))
      return {
        case: '',
        subject: s.name,
        role: s.role,
        values: [quantile(ms, 0.5), quantile(ms, 0.9), ms[0] as number],
      }
    })
    const own = median.get('breakwater') as number
    const ratios: Ratio[] = [
      {
        name: `breakwater / ${goalMs} ms goal`,
        value: own / goalMs,
        goalBelow: 1,
        met: own < goalMs,
      },
      ratioOf('breakwater / p-retry', own, median.get('p-retry') as number),
      ratioOf('breakwater / cockatiel', own, median.get('cockatiel') as number),
    ]
    return countedResult(importTime, {
      checks: [deferredCheck('breakwater', samples), deferredCheck('breakwater/ai', samples)],
      ratios,
      counted: {
        columns: [
          { name: 'median', unit: 'ms' },
          { name: 'p90', unit: 'ms' },
          { name: 'min', unit: 'ms' },
        ],
        rows,
        configs: {
          runs: `${rounds} fresh node ${process.version} processes per subject, taking turns, after one unmeasured round`,
          figures: 'ms from the start of import() to its end, in the child; node start-up excluded',
        },
      },
    })
  },
}

const ratioOf = (name: string, value: number, over: number): Ratio => ({
  name,
  value: value / over,
  goalBelow: null,
  met: null,
})

/** The figure means "before the first call" only if nothing deferred was loaded. */
function deferredCheck(name: string, samples: ReadonlyMap<string, Sample[]>): Check {
  const loaded = new Set((samples.get(name) ?? []).flatMap((s) => s.loaded))
  return {
    name: `import('${name}') loads none of ${deferred.join(', ')}`,
    ok: loaded.size === 0,
    detail: loaded.size === 0 ? 'none loaded' : `loaded: ${[...loaded].join(', ')}`,
  }
}
