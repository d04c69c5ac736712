import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { UsageError } from '../../src/cli/args.js'
import { benchCommand, findPackageRoot, notShippedMessage } from '../../src/cli/bench.js'
import { root, runCli } from '../helpers/run-cli.js'

let dir = ''
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'breakwater-bench-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('findPackageRoot', () => {
  it('walks up from a module to the folder of the package named breakwater', async () => {
    const found = await findPackageRoot(pathToFileURL(join(root, 'src', 'cli', 'main.ts')).href)
    expect(found).toBe(root.replace(/\/$/, ''))
  })

  it('finds nothing outside it', async () => {
    await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'someone-else' }))
    expect(await findPackageRoot(pathToFileURL(join(dir, 'x.js')).href)).toBeUndefined()
  })
})

describe('benchCommand', () => {
  it('says the suite ships with the repository when bench/run.ts is not there', async () => {
    const error = vi.spyOn(console, 'error').mockImplementation(() => {})
    expect(await benchCommand([], dir)).toBe(1)
    expect(await benchCommand(['--quick'], undefined)).toBe(1)
    expect(error).toHaveBeenCalledWith(
      expect.stringContaining("the benchmark suite ships with breakwater's source repository"),
    )
    expect(error.mock.calls[0]?.[0]).toContain('npm run bench')
  })
})

describe('notShippedMessage', () => {
  it('names the repository to clone when the manifest gives one', () => {
    const message = notShippedMessage({
      repository: { type: 'git', url: 'git+https://example.org/team/breakwater.git' },
    })
    expect(message).toContain('clone https://example.org/team/breakwater, then in it:')
    expect(message).toContain('  npm run bench')
    expect(notShippedMessage({ repository: 'team/breakwater' })).toContain(
      'clone https://github.com/team/breakwater,',
    )
  })

  it('names no address the manifest does not give, and the homepage when it does', () => {
    const plain = notShippedMessage({})
    expect(plain).toContain("run `npm run bench` in a clone of breakwater's source repository")
    expect(plain).not.toMatch(/https?:/)
    expect(notShippedMessage({ homepage: 'https://example.org/breakwater' })).toContain(
      'More: https://example.org/breakwater',
    )
  })

  it('reads the installed package.json for them', async () => {
    const installed = join(dir, 'installed')
    await mkdir(installed, { recursive: true })
    await writeFile(
      join(installed, 'package.json'),
      JSON.stringify({ name: 'breakwater', repository: 'https://example.org/b.git' }),
    )
    const error = vi.spyOn(console, 'error').mockImplementation(() => {})
    expect(await benchCommand([], installed)).toBe(1)
    expect(error.mock.calls[0]?.[0]).toContain('clone https://example.org/b, then in it:')
  })
})

describe('breakwater bench', () => {
  it('runs the suite with the same flags and exits with its code', async () => {
    // No scenario has this name: the runner says so and exits with 2, which comes back here.
    const { code, stderr } = await runCli(['bench', '--quick', '--filter', 'no-such-scenario'])
    expect(code).toBe(2)
    expect(stderr).toContain('no-such-scenario')
  })
})

describe('benchCommand flags', () => {
  it('refuses an unknown flag before starting anything', async () => {
    await expect(benchCommand(['--fast'], root)).rejects.toThrow(
      new UsageError('unknown flag --fast'),
    )
  })

  it('prints its usage with --help, whatever the folder', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {})
    expect(await benchCommand(['--help'], undefined)).toBe(0)
    expect(log.mock.calls[0]?.[0]).toMatch(
      /^usage: breakwater bench \[--filter NAME\] \[--quick\] \[--out DIR\] \[--redis URL\]/,
    )
  })
})
