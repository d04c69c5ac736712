import { describe, expect, it } from 'vitest'
import { parseCombinedLine, parseLogTime } from '../../src/replay/combined-log.js'

const combined =
  '203.0.113.9 - alice [10/Oct/2024:13:55:36 +0200] "GET /v1/items?id=7 HTTP/1.1" 200 2326 "https://example.com/" "Mozilla/5.0 (X11)"'

describe('parseCombinedLine', () => {
  it('reads time, method, target, status and size of a combined line', () => {
    expect(parseCombinedLine(combined)).toEqual({
      ok: true,
      request: {
        t: Date.UTC(2024, 9, 10, 11, 55, 36),
        method: 'GET',
        url: '/v1/items?id=7',
        key: 'GET /v1/items?id=7',
        bytes: 2326,
        status: 200,
      },
    })
  })

  it('reads the common format, without referer and user agent', () => {
    const result = parseCombinedLine(
      '192.0.2.1 - - [01/Jan/2025:00:00:00 +0000] "HEAD /health HTTP/1.0" 204 -',
    )
    expect(result).toMatchObject({
      ok: true,
      request: { method: 'HEAD', url: '/health', bytes: 0, status: 204 },
    })
  })

  it('keeps escaped quotes inside a quoted field, as nginx and Apache write them', () => {
    const nginx = `${combined.slice(0, combined.lastIndexOf('"Mozilla'))}"bot \\x22quoted\\x22"`
    const apache = `${combined.slice(0, combined.lastIndexOf('"Mozilla'))}"bot \\"quoted\\""`
    expect(parseCombinedLine(nginx).ok).toBe(true)
    expect(parseCombinedLine(apache).ok).toBe(true)
  })

  it('reads an HTTP/0.9 request line, which has no protocol', () => {
    const result = parseCombinedLine('192.0.2.1 - - [01/Jan/2025:00:00:00 +0000] "GET /" 200 12')
    expect(result).toMatchObject({ ok: true, request: { url: '/' } })
  })

  it('says what is wrong with a line that is not an access log line', () => {
    const result = parseCombinedLine('hello world')
    expect(result.ok).toBe(false)
    if (!result.ok)
      expect(result.reason).toMatch(/^not an access log line: expected host ident user \[time\]/)
  })

  it('refuses a request line that is not METHOD target protocol, such as a TLS probe', () => {
    for (const request of [
      '-',
      '\\x16\\x03\\x01\\x00',
      'GET',
      'get / HTTP/1.1',
      'GET / HTTP/1.1 extra',
    ]) {
      const result = parseCombinedLine(
        `192.0.2.1 - - [01/Jan/2025:00:00:00 +0000] "${request}" 400 0`,
      )
      expect(result.ok, request).toBe(false)
      if (!result.ok) expect(result.reason).toContain('is not "METHOD target protocol"')
    }
  })

  it('refuses a time it cannot read', () => {
    const result = parseCombinedLine('192.0.2.1 - - [2025-01-01T00:00:00Z] "GET / HTTP/1.1" 200 1')
    expect(result).toEqual({
      ok: false,
      reason: 'time [2025-01-01T00:00:00Z] is not dd/Mon/yyyy:hh:mm:ss ±hhmm',
    })
  })
})

describe('parseLogTime', () => {
  it('turns local time and offset into epoch ms', () => {
    expect(parseLogTime('10/Oct/2024:13:55:36 +0000')).toBe(Date.UTC(2024, 9, 10, 13, 55, 36))
    expect(parseLogTime('10/Oct/2024:13:55:36 +0530')).toBe(Date.UTC(2024, 9, 10, 8, 25, 36))
    expect(parseLogTime('10/Oct/2024:13:55:36 -0700')).toBe(Date.UTC(2024, 9, 10, 20, 55, 36))
  })

  it('refuses dates and times that do not exist', () => {
    for (const text of [
      '31/Feb/2024:00:00:00 +0000',
      '10/Okt/2024:00:00:00 +0000',
      '10/Oct/2024:24:00:00 +0000',
      '10/Oct/2024:00:00:61 +0000',
    ]) {
      expect(parseLogTime(text), text).toBeUndefined()
    }
  })
})
