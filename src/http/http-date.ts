/**
 * HTTP-date (RFC 9110 §5.6.7) in its three forms, read strictly: a cache that read a malformed
 * `Expires` leniently would keep an answer fresh that its sender meant to be stale.
 */

const day = '(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)'
const longDay = '(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)'
const month = '(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)'
const time = '\\d{2}:\\d{2}:\\d{2}'
const imfFixdate = new RegExp(`^${day}, \\d{2} ${month} \\d{4} ${time} GMT$`)
const rfc850 = new RegExp(`^${longDay}, \\d{2}-${month}-\\d{2} ${time} GMT$`)
const asctime = new RegExp(`^${day} ${month} (?: \\d|\\d{2}) ${time} \\d{4}$`)

/** The time an HTTP-date names, in ms since the epoch; undefined when it is not one. */
export function parseHttpDate(value: string | undefined): number | undefined {
  if (value === undefined) return undefined
  const text = value.trim()
  let at = Number.NaN
  if (imfFixdate.test(text) || rfc850.test(text)) at = Date.parse(text)
  // asctime carries no zone, and `Date.parse` would read it as local time; HTTP means GMT.
  else if (asctime.test(text)) at = Date.parse(`${text} GMT`)
  return Number.isNaN(at) ? undefined : at
}
