/**
 * The command line of a runner (`npm run bench`, `npm run chaos`): what both do with the flags
 * `parse` reads and with `--filter`, so that the two answer a mistake the same way.
 */
export interface Runner {
  /** The runner's name, before each message it prints: `bench`, `chaos`. */
  readonly name: string
  /** Printed for `--help`, and after every mistake. */
  readonly usage: string
}

/**
 * Runs `parse` (a strict `parseArgs`, and any check of the values): what it throws is printed
 * with the usage, and the process exits with 2. `--help` prints the usage and exits with 0.
 */
export function readFlags<F extends { readonly help?: boolean }>(
  runner: Runner,
  parse: () => F,
): F {
  let flags: F
  try {
    flags = parse()
  } catch (error) {
    console.error(`${runner.name}: ${(error as Error).message}\n\n${runner.usage}`)
    process.exit(2)
  }
  if (flags.help) {
    console.log(runner.usage)
    process.exit(0)
  }
  return flags
}

/**
 * The scenarios whose name contains `filter` (every one when it is undefined). None: the
 * process exits with 2, saying so.
 */
export function selectScenarios<S extends { readonly name: string }>(
  runner: Runner,
  scenarios: readonly S[],
  filter: string | undefined,
): { readonly filter: string | null; readonly selected: readonly S[] } {
  const given = filter ?? null
  const selected = scenarios.filter((s) => given === null || s.name.includes(given))
  if (selected.length === 0) {
    console.error(
      `${runner.name}: no scenario name contains ${JSON.stringify(given)}\n\n${runner.usage}`,
    )
    process.exit(2)
  }
  return { filter: given, selected }
}
