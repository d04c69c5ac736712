/**
 * Access log lines in the combined format that nginx and Apache write by default (the common
 * format, without referer and user agent, reads too):
 *
 *   203.0.113.9 - - [10/Oct/2024:13:55:36 +0000] "GET /v1/items?id=7 HTTP/1.1" 200 2326 "-" "curl/8.5"
 *
 * Pure: one line in, one request (or what was wrong) out.
 */

/**
 * `LineResult` of trace.ts, written out here: trace.ts reads these lines, and an import back
 * would make the two files a cycle. trace.ts hands the request on as a `TraceRequest`, so the
 * compiler still holds the two shapes together.
 */
export type CombinedLineResult =
  | {
      readonly ok: true
      readonly request: {
        readonly t: number
        readonly method: string
        readonly url: string
        readonly key: string
        readonly bytes: number
        readonly status: number
      }
    }
  | { readonly ok: false; readonly reason: string }

// A quoted field may hold \" (Apache) or \x22 (nginx); both escapes stay inside the quotes.
const quoted = '"((?:[^"\\\\]|\\\\.)*)"'
const linePattern = new RegExp(
  `^\\S+ \\S+ \\S+ \\[([^\\]]+)\\] ${quoted} (\\d{3}) (\\d+|-)(?: ${quoted} ${quoted})?`,
)
const timePattern =
  /^(\d{2})\/([A-Z][a-z]{2})\/(\d{4}):(\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})$/
const methodPattern = /^[A-Z][A-Z_-]*$/
const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']

const expected = 'host ident user [time] "METHOD target protocol" status bytes'

/** Reads one combined (or common) log line. */
export function parseCombinedLine(line: string): CombinedLineResult {
  const match = linePattern.exec(line)
  if (match === null) {
    return { ok: false, reason: `not an access log line: expected ${expected}, got ${clip(line)}` }
  }
  const [, time = '', request = '', status = '', size = ''] = match
  const t = parseLogTime(time)
  if (t === undefined) {
    return { ok: false, reason: `time [${time}] is not dd/Mon/yyyy:hh:mm:ss ±hhmm` }
  }
  const parts = request.split(' ')
  const [method = '', target = ''] = parts
  // HTTP/0.9 sends no protocol; more than three parts is a probe or a broken client.
  if (parts.length < 2 || parts.length > 3 || !methodPattern.test(method) || target === '') {
    return { ok: false, reason: `request ${clip(`"${request}"`)} is not "METHOD target protocol"` }
  }
  return {
    ok: true,
    request: {
      t,
      method,
      url: target,
      key: `${method} ${target}`,
      // Apache writes `-` for an empty body; nginx writes 0.
      bytes: size === '-' ? 0 : Number(size),
      status: Number(status),
    },
  }
}

/** `10/Oct/2024:13:55:36 +0200` as epoch ms, or undefined when it is not such a time. */
export function parseLogTime(text: string): number | undefined {
  const match = timePattern.exec(text)
  if (match === null) return undefined
  const [, day, month, year, hour, minute, second, sign, offsetHours, offsetMinutes] = match
  const monthIndex = months.indexOf(month as string)
  if (monthIndex === -1) return undefined
  const local = Date.UTC(
    Number(year),
    monthIndex,
    Number(day),
    Number(hour),
    Number(minute),
    Number(second),
  )
  // Date.UTC rolls 31/Feb over into March; a log never writes such a date.
  if (
    new Date(local).getUTCDate() !== Number(day) ||
    Number(hour) > 23 ||
    Number(minute) > 59 ||
    Number(second) > 59
  ) {
    return undefined
  }
  const offset = (Number(offsetHours) * 60 + Number(offsetMinutes)) * 60_000
  // The log shows local time; UTC is local time minus a positive offset.
  return sign === '+' ? local - offset : local + offset
}

function clip(text: string): string {
  return text.length > 80 ? `${text.slice(0, 77)}…` : text
}
