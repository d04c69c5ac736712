import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { UsageError } from '../../src/cli/args.js'
import { traceCommand } from '../../src/cli/trace-command.js'
import { runCli } from '../helpers/run-cli.js'

let dir = ''
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'breakwater-trace-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

const flags = ['--requests', '500', '--keys', '50', '--zipf', '1.1', '--rate', '20']

describe('breakwater trace synth', () => {
  it('writes the same trace for the same seed, to stdout or to a file, another for another seed', async () => {
    const file = join(dir, 'a.jsonl')
    const [toStdout, toFile] = await Promise.all([
      runCli(['trace', 'synth', ...flags, '--seed', '7']),
      runCli(['trace', 'synth', ...flags, '--seed', '7', '--out', file]),
    ])
    expect(toStdout.code).toBe(0)
    expect(toFile.code).toBe(0)
    expect(toFile.stdout).toBe('')
    expect(await readFile(file, 'utf8')).toBe(toStdout.stdout)
    const lines = toStdout.stdout.trimEnd().split('\n')
    expect(lines).toHaveLength(500)
    expect(JSON.parse(lines[0] as string)).toMatchObject({
      t: 0,
      method: 'GET',
      url: expect.stringMatching(/^\/items\/\d+$/),
    })

    const other = join(dir, 'b.jsonl')
    const error = vi.spyOn(console, 'error').mockImplementation(() => {})
    expect(await traceCommand(['synth', ...flags, '--seed', '8', '--out', other])).toBe(0)
    expect(error).toHaveBeenCalledWith(`wrote ${other}`)
    const otherText = await readFile(other, 'utf8')
    expect(otherText.split('\n')).toHaveLength(501)
    expect(otherText).not.toBe(toStdout.stdout)
  })

  it('refuses missing or bad flags', async () => {
    const cases: [string[], string][] = [
      [['synth', '--requests', '10', '--keys', '5'], '--zipf is required'],
      [['synth', ...flags, '--rate', '0'], '--rate: "0" is not a number above 0'],
      [['synth', ...flags, '--seed', 'x'], '--seed: "x" is not a whole number'],
      [
        ['synth', '--requests', 'many', '--keys', '5', '--zipf', '1'],
        '--requests: "many" is not a whole number',
      ],
      [['synth', ...flags, '--keys', '20000000'], '--keys: at most 10,000,000, got 20000000'],
      [['synth', ...flags, '--seeds', '3'], 'unknown flag --seeds'],
      [['mix'], 'unknown trace command "mix"'],
    ]
    for (const [args, message] of cases) {
      await expect(traceCommand(args), args.join(' ')).rejects.toThrow(
        new UsageError(message).message,
      )
    }
  })

  it('prints its usage with --help, and on stderr with exit code 2 when given nothing', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {})
    const error = vi.spyOn(console, 'error').mockImplementation(() => {})
    expect(await traceCommand(['synth', '--help'])).toBe(0)
    expect(log.mock.calls[0]?.[0]).toMatch(
      /^usage: breakwater trace synth --requests N --keys K --zipf S/,
    )
    expect(await traceCommand([])).toBe(2)
    expect(error.mock.calls[0]?.[0]).toMatch(/^usage: breakwater trace synth/)
  })
})
