import { describe, expect, it } from 'vitest'
import { type ChunkRead, maxHeldBytes, readToCommit } from '../../src/stream/read-ahead.js'
import type { StreamEvent } from '../../src/stream/verdict.js'

/** A `read` over `pieces`, then the end. */
function reads(...pieces: (string | Uint8Array)[]): () => Promise<ChunkRead> {
  const chunks = pieces.map((p) => (typeof p === 'string' ? new TextEncoder().encode(p) : p))
  return async () => {
    const value = chunks.shift()
    return value === undefined ? { done: true } : { done: false, value }
  }
}

const seen: StreamEvent[] = []
const recordAll = (event: StreamEvent) => {
  seen.push(event)
  return event.data === 'go' ? ('commit' as const) : ('hold' as const)
}

describe('readToCommit', () => {
  it('puts each event to the rule once, in order, across chunk boundaries', async () => {
    seen.length = 0
    const ahead = await readToCommit(
      reads('event: a\nda', 'ta: 1\n\ndata: 2\n', '\ndata: go\n\n'),
      recordAll,
    )
    expect(seen).toEqual([
      { event: 'a', data: '1' },
      { event: 'message', data: '2' },
      { event: 'message', data: 'go' },
    ])
    expect(ahead.kind).toBe('committed')
    const held = ahead.kind === 'committed' ? new TextDecoder().decode(ahead.held) : ''
    expect(held).toBe('event: a\ndata: 1\n\ndata: 2\n\ndata: go\n\n')
  })

  it('decodes a character split between two chunks', async () => {
    seen.length = 0
    const bytes = new TextEncoder().encode('data: é\n\ndata: go\n\n')
    await readToCommit(reads(bytes.slice(0, 7), bytes.slice(7)), recordAll)
    expect(seen[0]?.data).toBe('é')
  })

  it('ends on a close before content; an unfinished last event is no event', async () => {
    seen.length = 0
    expect(await readToCommit(reads('data: 1\n\ndata: go'), recordAll)).toEqual({ kind: 'ended' })
    expect(seen.map((e) => e.data)).toEqual(['1'])
  })

  it('stops at the first failure, reading no further', async () => {
    let asked = 0
    const rule = (event: StreamEvent) => {
      asked++
      return event.data === 'bad' ? { status: 503, body: { why: 'bad' } } : ('commit' as const)
    }
    const ahead = await readToCommit(reads('data: bad\n\ndata: fine\n\n'), rule)
    expect(ahead).toEqual({ kind: 'failed', failure: { status: 503, body: { why: 'bad' } } })
    expect(asked).toBe(1)
  })

  it('commits a stream held past its bound as it stands', async () => {
    const ping = `data: ${'x'.repeat(1_000)}\n\n`
    const pieces = Array.from({ length: Math.ceil(maxHeldBytes / ping.length) + 1 }, () => ping)
    const ahead = await readToCommit(reads(...pieces, 'data: go\n\n'), () => 'hold')
    expect(ahead.kind).toBe('committed')
    expect(ahead.kind === 'committed' && ahead.held.byteLength).toBeGreaterThan(maxHeldBytes)
  })
})
