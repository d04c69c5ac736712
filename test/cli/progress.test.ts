import { describe, expect, it } from 'vitest'
import { Progress, type ProgressOut, progressFor } from '../../src/cli/progress.js'

/** A stream that keeps what is written to it, a terminal or not. */
function sink(isTTY: boolean): ProgressOut & { text: string } {
  return {
    isTTY,
    text: '',
    write(chunk: string) {
      this.text += chunk
      return true
    },
  }
}

describe('Progress', () => {
  it('writes a plain line for each tenth read when stderr is not a terminal', () => {
    const out = sink(false)
    const progress = new Progress(out)
    for (let done = 0; done <= 64_000_000; done += 65_536) progress.reading('t.jsonl', done, 64e6)
    progress.reading('t.jsonl', 64_000_000, 64_000_000)
    progress.replaying(0, 6, { maxEntries: 10_000, ttlMs: 300_000 })
    progress.end()
    const lines = out.text.split('\n').filter((line) => line !== '')
    expect(lines.slice(0, 3)).toEqual([
      'reading t.jsonl: 0% of 64 MB',
      'reading t.jsonl: 10% of 64 MB',
      'reading t.jsonl: 20% of 64 MB',
    ])
    expect(lines.filter((line) => line.startsWith('reading'))).toHaveLength(11)
    expect(lines.at(-1)).toBe('replaying 1/6: 10,000 entries, ttl 5m')
    expect(out.text).not.toContain('\r')
  })

  it('redraws one line on a terminal, each percent once, and clears it at the end', () => {
    const out = sink(true)
    const progress = new Progress(out)
    for (let done = 0; done <= 1_000; done += 5) progress.reading('t.log', done, 1_000)
    progress.end()
    const redraws = out.text.split('\r\x1b[K').filter((part) => part !== '')
    expect(redraws).toHaveLength(101)
    expect(redraws[50]).toBe('reading t.log: 50% of 0.0 MB')
    expect(out.text.endsWith('\r\x1b[K')).toBe(true)
    expect(out.text).not.toContain('\n')
  })
})

describe('progressFor', () => {
  it('shows progress on a terminal, or elsewhere when asked', () => {
    expect(progressFor(false, sink(false))).toBeUndefined()
    expect(progressFor(true, sink(false))).toBeInstanceOf(Progress)
    expect(progressFor(false, sink(true))).toBeInstanceOf(Progress)
  })
})
