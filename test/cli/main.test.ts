import { readFile } from 'node:fs/promises'
import { describe, expect, it } from 'vitest'
import { runCli } from '../helpers/run-cli.js'

describe('breakwater', () => {
  it('lists its commands with --help, and exits with 2 when given none', async () => {
    const [help, none] = await Promise.all([runCli(['--help']), runCli([])])
    expect(help.code).toBe(0)
    expect(help.stdout).toMatch(/^usage: breakwater <command>/)
    for (const command of ['bench', 'replay TRACE', 'trace synth'])
      expect(help.stdout).toContain(command)
    expect(none.code).toBe(2)
    expect(none.stderr).toMatch(/^usage: breakwater <command>/)
  })

  it('names an unknown command, exit code 2, and prints its version', async () => {
    const [unknown, version] = await Promise.all([runCli(['benchmark']), runCli(['--version'])])
    expect(unknown.code).toBe(2)
    expect(unknown.stderr).toContain('breakwater: unknown command "benchmark"')
    const manifest = JSON.parse(await readFile('package.json', 'utf8')) as { version: string }
    expect(version.code).toBe(0)
    expect(version.stdout.trim()).toBe(manifest.version)
  })
})
