import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { UsageError } from '../../src/cli/args.js'
import { loadVega } from '../../src/cli/charts.js'
import { replayCommand } from '../../src/cli/replay-command.js'
import type { ReplayReport } from '../../src/cli/replay-output.js'
import { runCli } from '../helpers/run-cli.js'

let dir = ''
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'breakwater-replay-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

const good = (t: number, url: string) => JSON.stringify({ t, method: 'GET', url, bytes: 100 })

/** Runs the command in this process, catching what it prints. */
async function replayHere(args: string[], loadCharts?: () => Promise<unknown>) {
  const log = vi.spyOn(console, 'log').mockImplementation(() => {})
  const error = vi.spyOn(console, 'error').mockImplementation(() => {})
  const code = await replayCommand(args, loadCharts)
  const text = (spy: typeof log) => spy.mock.calls.map((call) => call.join(' ')).join('\n')
  return { code, stdout: text(log), stderr: text(error) }
}

// Each runs the command in a child process of its own: they may as well run side by side.
describe.concurrent('breakwater replay', () => {
  it('replays the shipped trace: table, replay.json and charts, optimal ≥ LRU and bound ≥ optimal', async () => {
    const out = join(dir, 'sample')
    const { code, stdout, stderr } = await runCli([
      'replay',
      'bench/traces/sample.jsonl',
      '--max-entries',
      '100,1000',
      '--ttl',
      '60s,5m',
      '--cost-per-call',
      '0.01',
      '--out',
      out,
    ])
    expect(stderr).toBe('')
    expect(code).toBe(0)
    expect(stdout).toContain('bench/traces/sample.jsonl (jsonl): 4,000 requests')
    expect(stdout).toMatch(
      /entries\s+ttl\s+LRU\s+optimal\s+bound\s+LRU bytes\s+bound bytes\s+calls saved\s+optimal saved\s+cost saved/,
    )
    expect(stdout).toMatch(/^\s+1,000\s+5m\s+\d+\.\d%/m)
    expect((await readdir(out)).sort()).toEqual(['calls-saved.svg', 'hit-ratio.svg', 'replay.json'])
    const report = JSON.parse(await readFile(join(out, 'replay.json'), 'utf8')) as ReplayReport
    expect(report.summary.requests).toBe(4_000)
    expect(report.summary.rows).toHaveLength(4)
    for (const row of report.summary.rows) {
      expect(row.optimal.hitRatio).toBeGreaterThanOrEqual(row.lru.hitRatio)
      expect(row.compulsory.hitRatio).toBeGreaterThanOrEqual(row.optimal.hitRatio)
      expect(row.lru.hitRatio).toBeGreaterThan(0)
      expect(row.moneySaved).toBeCloseTo(row.lru.hits * 0.01, 6)
      // The last column of the row is that money, in cents.
      expect(stdout).toMatch(new RegExp(`\\s${(row.lru.hits * 0.01).toFixed(2)}$`, 'm'))
    }
    const svg = await readFile(join(out, 'hit-ratio.svg'), 'utf8')
    expect(svg).toMatch(/^<svg/)
    expect(svg).toContain('optimal (Belady)')
  })

  it('stops at a malformed line with its number and what was wrong, exit code 2', async () => {
    const trace = join(dir, 'bad.jsonl')
    const bad = '{"t": "soon", "method": "GET", "url": "/c"}'
    await writeFile(trace, [good(0, '/a'), good(1, '/b'), bad, good(3, '/a')].join('\n'))
    const { code, stdout, stderr } = await runCli(['replay', trace])
    expect(code).toBe(2)
    expect(stdout).toBe('')
    expect(stderr).toContain(
      `breakwater replay: ${trace}: line 3: "t" must be a number of ms, got "soon"`,
    )
    expect(stderr).toContain('--lenient')
  })

  it('counts and skips malformed lines with --lenient, and says how many', async () => {
    const trace = join(dir, 'lenient.jsonl')
    await writeFile(
      trace,
      [good(0, '/a'), 'not json', good(1, '/a'), '{"t": 2}', good(3, '/a')].join('\n'),
    )
    const { code, stdout } = await runCli([
      'replay',
      trace,
      '--lenient',
      '--max-entries',
      '10',
      '--ttl',
      '1m',
    ])
    expect(code).toBe(0)
    expect(stdout).toContain('3 requests')
    expect(stdout).toContain('skipped 2 malformed lines (first: line 2: not JSON')
    expect(stdout).toMatch(/^\s+10\s+1m\s+66\.7%/m)
  })

  it('shows its progress on stderr with --progress, one plain line at a time', async () => {
    const { code, stdout, stderr } = await runCli([
      'replay',
      'bench/traces/sample.jsonl',
      '--max-entries',
      '10,100',
      '--ttl',
      '1m',
      '--progress',
    ])
    expect(code).toBe(0)
    expect(stdout).toContain('4,000 requests')
    const lines = stderr.trim().split('\n')
    expect(lines[0]).toMatch(/^reading bench\/traces\/sample\.jsonl: \d+% of \d+\.\d MB$/)
    expect(lines).toContain(
      `reading bench/traces/sample.jsonl: 100% of ${lines[0]?.split(' of ')[1]}`,
    )
    expect(lines.slice(-2)).toEqual([
      'replaying 1/2: 10 entries, ttl 1m',
      'replaying 2/2: 100 entries, ttl 1m',
    ])
    expect(stderr).not.toContain('\r')
  })

  it('exits with 2 on a bad TTL and points to the usage', async () => {
    const { code, stderr } = await runCli(['replay', 'bench/traces/sample.jsonl', '--ttl', '5x'])
    expect(code).toBe(2)
    expect(stderr).toContain('breakwater: --ttl: "5x" is not a duration')
    expect(stderr).toContain('see: breakwater replay --help')
  })
})

describe('replayCommand', () => {
  it('reads an nginx access log, detected from its first line', async () => {
    const { code, stdout } = await replayHere([
      'bench/traces/sample.log',
      '--max-entries',
      '50',
      '--ttl',
      '5m',
    ])
    expect(code).toBe(0)
    expect(stdout).toMatch(
      /sample\.log \(combined\): 320 requests over 9m \d\ds, \d+ keys, \d+ cacheable/,
    )
  })

  it('reads the format it is told, whatever the first line says', async () => {
    const { code, stderr } = await replayHere(['bench/traces/sample.jsonl', '--format', 'combined'])
    expect(code).toBe(2)
    expect(stderr).toContain('line 1: not an access log line')
  })

  it('says when the trace cannot be read', async () => {
    const missing = join(dir, 'nowhere.jsonl')
    await expect(replayHere([missing])).rejects.toThrow(
      new UsageError(`cannot read trace ${missing}: no such file`),
    )
    await expect(replayHere([dir])).rejects.toThrow(
      new UsageError(`cannot read trace ${dir}: not a file`),
    )
    await expect(replayHere([])).rejects.toThrow(/^which trace\?/)
  })

  it('says when the trace holds no request', async () => {
    const empty = join(dir, 'empty.jsonl')
    await writeFile(empty, '\n\n')
    const { code, stderr } = await replayHere([empty])
    expect(code).toBe(2)
    expect(stderr).toContain('the trace holds no request: it is empty')
  })

  it('refuses bad sizes, formats, costs, unknown flags and extra arguments', async () => {
    const cases: [string[], string][] = [
      [['--max-entries', '0'], '--max-entries: "0" is not a whole number ≥ 1'],
      [['--format', 'csv'], '--format: "csv" is not jsonl or combined'],
      [['--cost-per-call', 'free'], '--cost-per-call: "free" is not a number'],
      [['--bogus'], 'unknown flag --bogus'],
      [['other.jsonl'], 'unexpected argument "other.jsonl"'],
    ]
    for (const [flags, message] of cases) {
      await expect(
        replayHere(['bench/traces/sample.jsonl', ...flags]),
        flags.join(' '),
      ).rejects.toThrow(new UsageError(message).message)
    }
  })

  it('fails with --out when vega cannot load, before reading the trace, and says what to do', async () => {
    const missing = Object.assign(new Error("Cannot find package 'vega'"), {
      code: 'ERR_MODULE_NOT_FOUND',
    })
    const out = join(dir, 'no-vega')
    const { code, stdout, stderr } = await replayHere(
      ['bench/traces/sample.jsonl', '--out', out],
      () => loadVega(() => Promise.reject(missing)),
    )
    expect(code).toBe(1)
    expect(stdout).toBe('')
    expect(stderr).toMatch(/^breakwater replay: --out: charts need the vega package/)
    expect(stderr).toContain('npm install vega')
    await expect(readdir(out)).rejects.toThrow(/ENOENT/)
  })

  it('prints its usage with --help', async () => {
    const { code, stdout } = await replayHere(['--help'])
    expect(code).toBe(0)
    expect(stdout).toMatch(/^usage: breakwater replay TRACE/)
    expect(stdout).toContain('--cost-per-call N')
  })
})
