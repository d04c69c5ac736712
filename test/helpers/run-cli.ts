import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'

/** The repository root: the command runs from here, as `npm test` does. */
export const root = fileURLToPath(new URL('../..', import.meta.url))

export interface CliResult {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

/** Runs `breakwater …` from source under tsx, as a user would run the built command. */
export function runCli(args: readonly string[]): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', ...args],
      { cwd: root, maxBuffer: 64 * 1_048_576, env: { ...process.env, NO_COLOR: '1' } },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : (error as { code?: unknown }).code
        if (typeof code !== 'number') reject(error)
        else resolve({ code, stdout, stderr })
      },
    )
  })
}
