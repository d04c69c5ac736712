import { parseArgs } from 'node:util'
import { describe, expect, it } from 'vitest'
import {
  countFlag,
  parseCount,
  parseFlags,
  parseNumber,
  parseSizes,
  parseTtls,
  UsageError,
} from '../../src/cli/args.js'

const flags = (args: string[], positionals = 0) =>
  parseFlags(
    () =>
      parseArgs({
        args,
        options: { out: { type: 'string' }, quick: { type: 'boolean' } },
        allowPositionals: true,
        strict: true,
      }),
    positionals,
  )

describe('parseFlags', () => {
  it('returns the flags and positionals it was given', () => {
    const { values, positionals } = flags(['trace.jsonl', '--out', 'dir', '--quick'], 1)
    expect(values).toEqual({ out: 'dir', quick: true })
    expect(positionals).toEqual(['trace.jsonl'])
  })

  it('names an unknown flag', () => {
    expect(() => flags(['--bogus'])).toThrow(new UsageError('unknown flag --bogus'))
  })

  it('says when a flag misses its value', () => {
    expect(() => flags(['--out'])).toThrow(UsageError)
    expect(() => flags(['--out'])).toThrow(/--out/)
  })

  it('refuses arguments past the positionals expected', () => {
    expect(() => flags(['a', 'b'], 1)).toThrow(new UsageError('unexpected argument "b"'))
    expect(() => flags(['a'])).toThrow(new UsageError('unexpected argument "a"'))
  })
})

describe('parseCount', () => {
  it('reads whole numbers, with underscores or a k or M suffix', () => {
    expect(parseCount('1000')).toBe(1_000)
    expect(parseCount('10_000')).toBe(10_000)
    expect(parseCount('10k')).toBe(10_000)
    expect(parseCount('1M')).toBe(1_000_000)
  })

  it('refuses zero, fractions, signs and words', () => {
    for (const text of ['0', '1.5', '-3', 'ten', '', '10x', '1e3']) {
      expect(() => parseCount(text), text).toThrow(RangeError)
    }
    expect(() => parseCount('10x')).toThrow(
      '"10x" is not a whole number ≥ 1 (like 1000, 10k or 1M)',
    )
  })
})

describe('countFlag', () => {
  it('names the flag in its complaint', () => {
    expect(() => countFlag('--keys', 'many')).toThrow(
      new UsageError('--keys: "many" is not a whole number ≥ 1 (like 1000, 10k or 1M)'),
    )
  })
})

describe('parseSizes', () => {
  it('reads a comma-separated list, sorted and without repeats', () => {
    expect(parseSizes('10k,100, 1000,100')).toEqual([100, 1_000, 10_000])
  })

  it('names the flag and the bad item', () => {
    expect(() => parseSizes('100,lots')).toThrow(
      new UsageError('--max-entries: "lots" is not a whole number ≥ 1 (like 1000, 10k or 1M)'),
    )
    expect(() => parseSizes('100,,1000')).toThrow(
      new UsageError('--max-entries: empty item in "100,,1000"'),
    )
  })
})

describe('parseTtls', () => {
  it('reads durations in ms, sorted', () => {
    expect(parseTtls('5m,60s,250ms')).toEqual([250, 60_000, 300_000])
  })

  it('names the flag and the bad duration', () => {
    expect(() => parseTtls('60s,5x')).toThrow(UsageError)
    expect(() => parseTtls('60s,5x')).toThrow(/^--ttl: "5x" is not a duration/)
  })
})

describe('parseNumber', () => {
  it('reads a number at least min, or above it when strict', () => {
    expect(parseNumber('--cost-per-call', '0.002', 0)).toBe(0.002)
    expect(parseNumber('--cost-per-call', '0', 0)).toBe(0)
    expect(() => parseNumber('--rate', '0', 0, true)).toThrow(
      new UsageError('--rate: "0" is not a number above 0'),
    )
    expect(() => parseNumber('--zipf', '-1', 0)).toThrow(
      new UsageError('--zipf: "-1" is not a number of at least 0'),
    )
    expect(() => parseNumber('--zipf', 'abc', 0)).toThrow(UsageError)
    expect(() => parseNumber('--zipf', '', 0)).toThrow(UsageError)
  })
})
