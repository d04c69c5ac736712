/**
 * `breakwater bench`: the benchmark suite lives in the repository's bench/ folder and needs the
 * peer libraries, which are devDependencies; this command finds it beside the package and runs
 * it under tsx in a child process, or says where to get it.
 */
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { constants } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { parseFlags } from './args.js'

export const benchUsage = `usage: breakwater bench [--filter NAME] [--quick] [--out DIR] [--redis URL]

Runs the benchmark suite: breakwater beside its peers against a local upstream, one table of
figures on stdout, results.json and charts in --out.

  --filter NAME  only the scenarios whose name contains NAME
  --quick        a short run: a quick look, not figures to compare
  --out DIR      where results go (default: bench/results in the repository)
  --redis URL    run the Redis scenarios against this server too (or set REDIS_URL)
  --help         this text

The suite ships with breakwater's source repository, not with the npm package.`

/** Where the source lives, as a package.json's `repository` and `homepage` may say. */
interface SourcePointers {
  readonly repository?: unknown
  readonly homepage?: unknown
}

/**
 * What to do when the suite is not beside the command (an npm install): clone the source and
 * run it there. It names the repository and the homepage only as the manifest gives them.
 */
export function notShippedMessage(manifest: SourcePointers = {}): string {
  const repository = repositoryUrl(manifest.repository)
  const homepage = typeof manifest.homepage === 'string' ? manifest.homepage : undefined
  const lines = [
    "breakwater bench: the benchmark suite ships with breakwater's source repository, not with the npm package.",
    repository === undefined
      ? "To run it, run `npm run bench` in a clone of breakwater's source repository:"
      : `To run it, clone ${repository}, then in it:`,
    '  npm install',
    '  npm run bench',
  ]
  if (homepage !== undefined && homepage !== repository) lines.push(`More: ${homepage}`)
  return lines.join('\n')
}

/** `repository` as a URL to clone: a string or `{ url }`, `git+` and `.git` taken off. */
function repositoryUrl(repository: unknown): string | undefined {
  const url =
    typeof repository === 'string' ? repository : (repository as { url?: unknown } | undefined)?.url
  if (typeof url !== 'string' || url === '') return undefined
  const github = /^(?:github:)?([\w.-]+\/[\w.-]+)$/.exec(url)
  if (github !== null) return `https://github.com/${github[1]}`
  return url.replace(/^git\+/, '').replace(/\.git$/, '')
}

/** The manifest at `root`, or nothing when there is none to read. */
async function manifestAt(root: string | undefined): Promise<SourcePointers> {
  if (root === undefined) return {}
  try {
    return JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as SourcePointers
  } catch {
    return {}
  }
}

/** The folder of the package named breakwater that holds `from`, or undefined. */
export async function findPackageRoot(from: string): Promise<string | undefined> {
  let dir = dirname(fileURLToPath(from))
  for (;;) {
    try {
      const manifest = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as unknown
      if ((manifest as { name?: unknown }).name === 'breakwater') return dir
    } catch {
      // No manifest here, or not one we can read: keep walking up.
    }
    const parent = dirname(dir)
    if (parent === dir) return undefined
    dir = parent
  }
}

/** Runs the suite with the same flags and the terminal handed over; resolves its exit code. */
export async function benchCommand(
  args: readonly string[],
  root: string | undefined,
): Promise<number> {
  const { values } = parseFlags(() =>
    parseArgs({
      args: [...args],
      options: {
        filter: { type: 'string' },
        quick: { type: 'boolean' },
        out: { type: 'string' },
        redis: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: true,
      strict: true,
    }),
  )
  if (values.help) {
    console.log(benchUsage)
    return 0
  }
  const runner = root === undefined ? undefined : join(root, 'bench', 'run.ts')
  if (root === undefined || runner === undefined || !existsSync(runner)) {
    console.error(notShippedMessage(await manifestAt(root)))
    return 1
  }
  if (!hasTsx(root)) {
    console.error(
      'breakwater bench: the suite runs under tsx, a devDependency: run `npm install` in the repository first.',
    )
    return 1
  }
  const forwarded = [
    ...(values.filter === undefined ? [] : ['--filter', values.filter]),
    ...(values.quick ? ['--quick'] : []),
    // The runner works in the repository: a relative --out means the caller's folder.
    ...(values.out === undefined ? [] : ['--out', resolve(values.out)]),
    ...(values.redis === undefined ? [] : ['--redis', values.redis]),
  ]
  return run(process.execPath, ['--import', 'tsx', runner, ...forwarded], root)
}

function hasTsx(root: string): boolean {
  try {
    createRequire(join(root, 'package.json')).resolve('tsx/package.json')
    return true
  } catch {
    return false
  }
}

function run(command: string, args: string[], cwd: string): Promise<number> {
  return new Promise((done, fail) => {
    const child = spawn(command, args, { cwd, stdio: 'inherit' })
    child.once('error', fail)
    // A child ended by a signal exits as shells report it: 128 + the signal's number.
    child.once('exit', (code, signal) =>
      done(code ?? 128 + (signal === null ? 0 : constants.signals[signal])),
    )
  })
}
