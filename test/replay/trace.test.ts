import { describe, expect, it } from 'vitest'
import {
  detectFormat,
  parseJsonLine,
  readTrace,
  TraceBuilder,
  TraceError,
} from '../../src/replay/trace.js'

const line = (value: unknown) => JSON.stringify(value)

describe('parseJsonLine', () => {
  it('reads a request and keys it by method and URL', () => {
    expect(parseJsonLine(line({ t: 5, method: 'get', url: '/a', bytes: 10, status: 200 }))).toEqual(
      {
        ok: true,
        request: { t: 5, method: 'GET', url: '/a', key: 'GET /a', bytes: 10, status: 200 },
      },
    )
  })

  it('keys by the line’s own key when it has one', () => {
    const result = parseJsonLine(
      line({ t: 0, method: 'POST', url: '/v1/messages', key: 'prompt-42' }),
    )
    expect(result).toMatchObject({ ok: true, request: { key: 'prompt-42', bytes: undefined } })
  })

  it('says what is wrong with a malformed line', () => {
    const cases: [string, string][] = [
      ['{"t": 1,', 'not JSON ('],
      ['[1, 2]', 'not a JSON object'],
      [line({ method: 'GET', url: '/a' }), '"t" must be a number of ms, got nothing'],
      [line({ t: '12', method: 'GET', url: '/a' }), '"t" must be a number of ms, got "12"'],
      [line({ t: 1, url: '/a' }), '"method" must be a non-empty string, got nothing'],
      [line({ t: 1, method: 'GET', url: '' }), '"url" must be a non-empty string, got ""'],
      [
        line({ t: 1, method: 'GET', url: '/a', key: 7 }),
        '"key" must be a non-empty string when given, got 7',
      ],
      [
        line({ t: 1, method: 'GET', url: '/a', bytes: -1 }),
        '"bytes" must be a whole number ≥ 0 when given, got -1',
      ],
      [
        line({ t: 1, method: 'GET', url: '/a', status: 999 }),
        '"status" must be an HTTP status (100–599) when given, got 999',
      ],
    ]
    for (const [text, reason] of cases) {
      const result = parseJsonLine(text)
      expect(result.ok, text).toBe(false)
      if (!result.ok) expect(result.reason, text).toContain(reason)
    }
  })
})

describe('detectFormat', () => {
  it('takes a line that opens an object for JSON Lines and anything else for a log', () => {
    expect(detectFormat('  {"t": 1}')).toBe('jsonl')
    expect(detectFormat('192.0.2.1 - - [10/Oct/2024:13:55:36 +0000] "GET / HTTP/1.1" 200 5')).toBe(
      'combined',
    )
  })
})

describe('readTrace', () => {
  const jsonl = [
    line({ t: 0, method: 'GET', url: '/a', bytes: 100 }),
    '',
    line({ t: 10, method: 'GET', url: '/b', bytes: 50 }),
    line({ t: 20, method: 'GET', url: '/a', bytes: 100 }),
  ]

  it('reads lines into columns, interning keys and skipping blank lines', async () => {
    const { trace, format, skipped } = await readTrace(jsonl)
    expect(format).toBe('jsonl')
    expect(skipped).toBe(0)
    expect(trace.length).toBe(3)
    expect([...trace.keyIds]).toEqual([0, 1, 0])
    expect(trace.keys).toEqual(['GET /a', 'GET /b'])
    expect([...trace.times]).toEqual([0, 10, 20])
    expect([...trace.bytes]).toEqual([100, 50, 100])
    expect(trace.hasBytes).toBe(true)
  })

  it('reads an async stream of lines, such as readline gives', async () => {
    async function* lines() {
      yield* jsonl
    }
    expect((await readTrace(lines())).trace.length).toBe(3)
  })

  it('stops at the first malformed line, with its number', async () => {
    const error = await readTrace([...jsonl, '{"t": "late"}', 'junk']).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(TraceError)
    expect((error as TraceError).line).toBe(5)
    expect((error as Error).message).toMatch(/^line 5: "t" must be a number of ms/)
  })

  it('counts and skips malformed lines when lenient, remembering the first', async () => {
    const result = await readTrace([...jsonl, 'junk', '{}'], { lenient: true })
    expect(result.trace.length).toBe(3)
    expect(result.skipped).toBe(2)
    expect(result.firstSkipped).toMatch(/^line 5: not JSON/)
  })

  it('refuses a trace with no request at all', async () => {
    await expect(readTrace(['', ' '])).rejects.toThrow('the trace holds no request: it is empty')
    await expect(readTrace(['{', '{'], { lenient: true })).rejects.toThrow(
      'the trace holds no request: all 2 of its lines are malformed',
    )
  })

  it('reads the format it is told to, whatever the first line', async () => {
    await expect(readTrace(jsonl, { format: 'combined' })).rejects.toThrow(
      /^line 1: not an access log line/,
    )
  })

  it('has no byte figures when no line gives a size', async () => {
    const { trace } = await readTrace([line({ t: 0, method: 'GET', url: '/a' })])
    expect(trace.hasBytes).toBe(false)
  })
})

describe('TraceBuilder', () => {
  it('sorts requests by time, keeping the order of requests of the same ms', () => {
    const builder = new TraceBuilder()
    const add = (t: number, url: string) =>
      builder.add({ t, method: 'GET', url, key: url, bytes: undefined, status: undefined })
    add(20, '/late')
    add(10, '/first')
    add(10, '/second')
    add(15, '/middle')
    const trace = builder.build()
    expect([...trace.times]).toEqual([10, 10, 15, 20])
    expect([...trace.keyIds].map((id) => trace.keys[id])).toEqual([
      '/first',
      '/second',
      '/middle',
      '/late',
    ])
  })
})
