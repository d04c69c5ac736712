#!/usr/bin/env node
/**
 * The `breakwater` command: `bench` runs the benchmark suite, `replay` replays a request trace
 * through the cache, `trace synth` writes a synthetic trace. A wrong use or a bad trace exits
 * with 2, any other failure with 1.
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { UsageError } from './args.js'
import { benchCommand, findPackageRoot } from './bench.js'

const usage = `usage: breakwater <command> [flags]

  bench         run the benchmark suite: breakwater beside its peers (in a clone of its source)
  replay TRACE  replay a request trace through the cache: hit ratios beside the best possible
  trace synth   write a synthetic trace (Zipf keys, Poisson arrivals)

breakwater <command> --help says more; breakwater --version prints the version.`

async function main(args: readonly string[]): Promise<number> {
  const [command, ...rest] = args
  switch (command) {
    case 'bench':
      return benchCommand(rest, await findPackageRoot(import.meta.url))
    // Loaded on demand: the cache code and the trace readers start slower than bench needs.
    case 'replay':
      return (await import('./replay-command.js')).replayCommand(rest)
    case 'trace':
      return (await import('./trace-command.js')).traceCommand(rest)
    case 'queue':
      return (await import('./queue-command.js')).queueCommand(rest)
    case '--version':
    case '-v':
      console.log(await version())
      return 0
    case '--help':
    case '-h':
    case 'help':
      console.log(usage)
      return 0
    case undefined:
      console.error(usage)
      return 2
    default:
      throw new UsageError(`unknown command ${JSON.stringify(command)}`)
  }
}

async function version(): Promise<string> {
  const root = await findPackageRoot(import.meta.url)
  if (root === undefined) return 'unknown'
  const manifest = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as {
    version?: string
  }
  return manifest.version ?? 'unknown'
}

/** The subcommand named in `args`, for the hint after a usage error. */
function helpHint(args: readonly string[]): string {
  const [command, sub] = args
  if (command === 'trace' && sub === 'synth') return 'breakwater trace synth --help'
  if (command === 'bench' || command === 'replay' || command === 'trace')
    return `breakwater ${command} --help`
  return 'breakwater --help'
}

// Piped into `head`, the reader may leave early: that is an end, not a failure.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0)
  throw error
})

const args = process.argv.slice(2)
try {
  process.exitCode = await main(args)
} catch (error) {
  if (error instanceof UsageError) {
    console.error(`breakwater: ${error.message}\nsee: ${helpHint(args)}`)
    process.exitCode = 2
  } else {
    console.error(`breakwater: ${error instanceof Error ? error.message : String(error)}`)
    process.exitCode = 1
  }
}
