/** Answers no well-behaved server sends: broken headers, status lines and reason phrases. */

const body = '{"ok":true}'

/** A whole answer: the status line, the headers given, a right content-length, the body. */
function answer(statusLine: string, headers: readonly string[] = [], text = body): Buffer {
  const head = [statusLine, ...headers, `content-length: ${Buffer.byteLength(text)}`]
  return Buffer.concat([Buffer.from(`${head.join('\r\n')}\r\n\r\n`, 'utf8'), Buffer.from(text)])
}

const retryAfters = [
  '-1',
  'abc',
  '1e400',
  '99999999999999999999',
  'Infinity',
  'NaN',
  '0x10',
  '1.5',
  '',
  ' ',
  '2147483648',
  '4294967296',
  '9007199254740993',
  'Wed, 99 Foo 2024 25:61:61 GMT',
  'Fri, 31 Dec 9999 23:59:59 GMT',
  'Thu, 01 Jan 1970 00:00:00 GMT',
  '5, 7',
  '١٢',
]
const retryAfterMs = ['-5', 'NaN', '1e12', '', '1e309', '0.0001', '3600001', 'soon']
const rateHeaders = [
  'x-ratelimit-remaining-requests: -1',
  'x-ratelimit-remaining-requests: abc',
  'x-ratelimit-remaining-requests: 1e309',
  'x-ratelimit-reset-requests: 1e12s',
  'x-ratelimit-reset-requests: xyz',
  'x-ratelimit-reset-requests: -3s',
  'x-ratelimit-reset-requests: 99999999h',
  'x-ratelimit-remaining-tokens: -99999999999',
  'x-ratelimit-reset-tokens: 6m-1s',
  'anthropic-ratelimit-requests-remaining: -5',
  'anthropic-ratelimit-requests-reset: not a date',
  'anthropic-ratelimit-requests-reset: +275760-09-13T00:00:00.000Z',
  'anthropic-ratelimit-requests-limit: 0',
  'ratelimit: limit=abc, remaining=-1, reset=1e20',
  'ratelimit: "default";r=0;t=99999999999',
  'ratelimit-policy: garbage;;;=',
  'ratelimit-remaining: -1',
  'ratelimit-reset: 1e400',
]
const cacheControls = [
  'max-age=-1',
  'max-age=abc',
  'max-age=1e400',
  'max-age=99999999999999',
  's-maxage=',
  'max-age="60"',
  'no-store, max-age=60',
  ',,,',
  'private=',
  'max-age=60, max-age=0',
  `max-age=${'9'.repeat(400)}`,
  'stale-while-revalidate=-5',
  'max-age',
  '=60',
  'MAX-AGE=60',
  'no-cache="set-cookie',
  'immutable, max-age=-0',
]
const otherHeaders = [
  'expires: garbage',
  'age: -1',
  'age: abc',
  'age: 1e20',
  'date: yesterday',
  'expires: 0',
  'set-cookie: =;;;',
  'content-type: ;;;',
  'vary: *',
  'vary: ,,,',
  'etag: "unclosed',
  'last-modified: 32 Foo 99999',
  'x-should-retry: maybe',
]
const statusLines = [
  'HTTP/1.1 600 Weird',
  'HTTP/1.1 999 Very Weird',
  'HTTP/1.1 099 Low',
  'HTTP/1.1 1000 Long',
  'HTTP/1.1 abc Letters',
  'HTTP/1.1 200',
  'HTTP/1.1  200 OK',
  'HTTP/2 200 OK',
  'HTTP/1.1 -1 Negative',
  'HTTP/1.1 200OK',
  'HTTP/1.1 204 No Content',
  'HTTP/1.1 199 Odd',
  'HTTP/1.1 299 Odd',
  'HTTP/1.1 599 Edge',
  'HTTP/9.9 200 OK',
  'HTTP/1.1 429',
  'HTTP/1.1 503',
]
const reasons = [
  'Ça va ✓',
  '日本語',
  'emoji 🚀',
  'tab\there',
  'x'.repeat(8_000),
  'nul\u0000byte',
  'del\u007f',
  'latin1 café',
  '\u00ff\u00fe',
  'ok\r',
]

/** Every malformed answer, named for the report. */
export function malformedAnswers(): { readonly name: string; readonly raw: Buffer }[] {
  return [
    ...retryAfters.flatMap((v) => [
      {
        name: `429 retry-after: ${v}`,
        raw: answer('HTTP/1.1 429 Too Many Requests', [`retry-after: ${v}`]),
      },
      {
        name: `503 retry-after: ${v}`,
        raw: answer('HTTP/1.1 503 Service Unavailable', [`retry-after: ${v}`]),
      },
    ]),
    ...retryAfterMs.map((v) => ({
      name: `429 retry-after-ms: ${v}`,
      raw: answer('HTTP/1.1 429 Too Many Requests', [`retry-after-ms: ${v}`]),
    })),
    ...rateHeaders.flatMap((h) => [
      { name: `200 ${h}`, raw: answer('HTTP/1.1 200 OK', [h]) },
      { name: `429 ${h}`, raw: answer('HTTP/1.1 429 Too Many Requests', [h, 'retry-after: 1']) },
    ]),
    ...cacheControls.map((v) => ({
      name: `200 cache-control: ${v.slice(0, 40)}`,
      raw: answer('HTTP/1.1 200 OK', [`cache-control: ${v}`]),
    })),
    ...otherHeaders.map((h) => ({ name: `200 ${h}`, raw: answer('HTTP/1.1 200 OK', [h]) })),
    ...statusLines.map((line) => ({ name: line, raw: answer(line) })),
    ...reasons.map((r) => ({
      name: `reason ${JSON.stringify(r.slice(0, 20))}`,
      raw: answer(`HTTP/1.1 200 ${r}`),
    })),
    {
      name: 'content-length: -1',
      raw: Buffer.from('HTTP/1.1 200 OK\r\ncontent-length: -1\r\n\r\nx'),
    },
    {
      name: 'two content-lengths',
      raw: Buffer.from('HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-length: 5\r\n\r\nxxxxx'),
    },
    {
      name: 'bad chunk size',
      raw: Buffer.from('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\nx\r\n0\r\n\r\n'),
    },
    { name: 'header without colon', raw: Buffer.from('HTTP/1.1 200 OK\r\nnocolon\r\n\r\n') },
    { name: 'gzip that is not', raw: answer('HTTP/1.1 200 OK', ['content-encoding: gzip']) },
    { name: 'br that is not', raw: answer('HTTP/1.1 200 OK', ['content-encoding: br']) },
    { name: 'no head at all', raw: Buffer.from('garbage\r\n\r\n') },
    { name: 'empty answer', raw: Buffer.alloc(0) },
  ]
}
