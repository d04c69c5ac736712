import { describe, expect, it } from 'vitest'
import { TimeoutError } from '../../src/core/errors.js'
import { classifyError, classifyOutcome } from '../../src/retry/classify.js'
import { httpOutcome } from '../helpers/call.js'

const statuses = new Set([408, 425, 429, 500, 502, 503, 504])

/** What undici's fetch throws: a TypeError whose cause holds the socket error. */
function fetchFailed(cause: unknown): TypeError {
  return new TypeError('fetch failed', { cause })
}
const withCode = (code: string) => Object.assign(new Error(code), { code })

describe('classifyOutcome', () => {
  it('retries a listed status and names it', () => {
    expect(classifyOutcome(httpOutcome(503), statuses)).toMatchObject({
      failed: true,
      retryable: true,
      status: 503,
      reason: 'status 503',
    })
  })

  it('treats other 4xx as final failures, and 2xx and 3xx as successes', () => {
    expect(classifyOutcome(httpOutcome(400), statuses)).toMatchObject({
      failed: true,
      retryable: false,
    })
    expect(classifyOutcome(httpOutcome(200), statuses).failed).toBe(false)
    expect(classifyOutcome(httpOutcome(304), statuses).failed).toBe(false)
    expect(classifyOutcome({ kind: 'value', value: 503 }, statuses).failed).toBe(false)
  })

  it('lets x-should-retry from the server override the status rule', () => {
    const yes = httpOutcome(400, 'x', [['x-should-retry', 'true']])
    const no = httpOutcome(503, 'x', [['x-should-retry', 'false']])
    expect(classifyOutcome(yes, statuses).retryable).toBe(true)
    expect(classifyOutcome(no, statuses).retryable).toBe(false)
    expect(
      classifyOutcome(httpOutcome(200, 'x', [['x-should-retry', 'true']]), statuses),
    ).toMatchObject({
      failed: false,
      retryable: false,
    })
  })

  it('reads the response headers whatever the case asked', () => {
    const verdict = classifyOutcome(httpOutcome(429, 'x', [['retry-after', '3']]), statuses)
    expect(verdict.header('Retry-After')).toBe('3')
  })
})

describe('classifyError', () => {
  it('finds the network code on the cause of a fetch failure', () => {
    expect(classifyError(fetchFailed(withCode('UND_ERR_SOCKET')), statuses)).toMatchObject({
      failed: true,
      retryable: true,
      beforeSend: false,
      code: 'UND_ERR_SOCKET',
      reason: 'UND_ERR_SOCKET',
    })
  })

  it('follows deeper causes', () => {
    const error = new Error('outer', {
      cause: new Error('middle', { cause: withCode('ECONNRESET') }),
    })
    expect(classifyError(error, statuses)).toMatchObject({ retryable: true, code: 'ECONNRESET' })
  })

  it("reads the codes of an AggregateError's errors", () => {
    const aggregate = new AggregateError([withCode('ENETUNREACH'), withCode('ECONNREFUSED')], 'x')
    expect(classifyError(fetchFailed(aggregate), statuses)).toMatchObject({
      retryable: true,
      beforeSend: true,
      code: 'ENETUNREACH',
    })
  })

  it('prefers a known network code to an unknown one', () => {
    const error = Object.assign(new Error('x', { cause: withCode('ECONNRESET') }), {
      code: 'ERR_SOMETHING',
    })
    expect(classifyError(error, statuses).code).toBe('ECONNRESET')
    const unknownFirst = Object.assign(new Error('x', { cause: withCode('ENOTFOUND') }), {
      code: 'ERR_SOMETHING',
    })
    expect(classifyError(unknownFirst, statuses).reason).toBe('ENOTFOUND')
  })

  it('marks failures that precede sending, and only those', () => {
    for (const code of ['ECONNREFUSED', 'EAI_AGAIN', 'EHOSTUNREACH', 'UND_ERR_CONNECT_TIMEOUT']) {
      expect(classifyError(fetchFailed(withCode(code)), statuses)).toMatchObject({
        retryable: true,
        beforeSend: true,
      })
    }
    for (const code of ['ECONNRESET', 'EPIPE', 'UND_ERR_HEADERS_TIMEOUT', 'ETIMEDOUT']) {
      expect(classifyError(fetchFailed(withCode(code)), statuses)).toMatchObject({
        retryable: true,
        beforeSend: false,
      })
    }
  })

  it('does not retry ENOTFOUND: the name does not exist', () => {
    expect(classifyError(fetchFailed(withCode('ENOTFOUND')), statuses)).toMatchObject({
      retryable: false,
      reason: 'ENOTFOUND',
    })
  })

  it('retries our own TimeoutError', () => {
    expect(classifyError(new TimeoutError(100), statuses)).toMatchObject({
      retryable: true,
      reason: 'timeout',
    })
  })

  it('reads status and statusCode from the error and from its cause', () => {
    expect(classifyError(Object.assign(new Error('x'), { status: 503 }), statuses)).toMatchObject({
      retryable: true,
      status: 503,
      reason: 'status 503',
    })
    const wrapped = new Error('wrapped', { cause: { statusCode: 502 } })
    expect(classifyError(wrapped, statuses)).toMatchObject({ retryable: true, status: 502 })
    const final = Object.assign(new Error('x'), { status: 401 })
    expect(classifyError(final, statuses)).toMatchObject({ failed: true, retryable: false })
  })

  it("reads the status and headers of an error's response, as got and ky attach them", () => {
    const error = Object.assign(new Error('HTTPError'), {
      response: new Response('busy', { status: 503, headers: { 'retry-after': '7' } }),
    })
    const verdict = classifyError(error, statuses)
    expect(verdict).toMatchObject({ retryable: true, status: 503 })
    expect(verdict.header('retry-after')).toBe('7')
  })

  it('reads headers from a plain object, Headers, a Map, or a get() holder, ignoring case', () => {
    const holders: unknown[] = [
      { 'Retry-After': '4' },
      { 'retry-after': ['4', '9'] },
      new Headers({ 'Retry-After': '4' }),
      new Map([['Retry-After', '4']]),
      { get: (name: string) => (name === 'retry-after' ? '4' : null) },
    ]
    for (const headers of holders) {
      const verdict = classifyError(
        Object.assign(new Error('x'), { status: 429, headers }),
        statuses,
      )
      expect(verdict.header('retry-after')).toBe('4')
      expect(verdict.header('RETRY-AFTER')).toBe('4')
      expect(verdict.header('x-missing')).toBeUndefined()
    }
  })

  it('lets x-should-retry on an error override the status rule', () => {
    const no = Object.assign(new Error('x'), {
      status: 503,
      headers: { 'x-should-retry': 'false' },
    })
    const yes = new Error('x', {
      cause: { status: 409, headers: new Headers({ 'X-Should-Retry': 'true' }) },
    })
    expect(classifyError(no, statuses).retryable).toBe(false)
    expect(classifyError(yes, statuses).retryable).toBe(true)
  })

  it('does not retry an error it knows nothing about', () => {
    expect(classifyError(new RangeError('bad input'), statuses)).toMatchObject({
      failed: true,
      retryable: false,
      reason: 'RangeError',
    })
    expect(classifyError('boom', statuses)).toMatchObject({ retryable: false, reason: 'error' })
    expect(classifyError(fetchFailed(withCode('ERR_INVALID_URL')), statuses)).toMatchObject({
      retryable: false,
      reason: 'ERR_INVALID_URL',
    })
  })

  it('ends on a cyclic cause chain', () => {
    const a: { cause?: unknown } = new Error('a')
    const b = new Error('b', { cause: a })
    a.cause = b
    expect(classifyError(a, statuses).retryable).toBe(false)
  })
})
