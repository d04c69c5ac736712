/**
 * What of an upstream's status line a WHATWG `Response` can carry: pure, no I/O. undici's fetch
 * resolves with statuses and reason phrases that the `Response` constructor refuses, and every
 * answer breakwater hands out (first, coalesced or cached) is built by that constructor.
 */

// Fetch's reason-phrase: HTAB, SP, VCHAR, obs-text. undici decodes the line as UTF-8, so a
// phrase such as `OK ✓` arrives holding characters past U+00FF.
const reasonPhrase = /^[\t\x20-\x7e\x80-\xff]*$/

/**
 * The reason phrase as sent when a `Response` can carry it, else `''`: no client may rely on
 * the phrase (HTTP/2 sends none), and an answer that cannot be built serves nobody.
 */
export function reasonPhraseOf(statusText: string): string {
  return isReasonPhrase(statusText) ? statusText : ''
}

/** True for a reason phrase a `Response` can carry. */
export function isReasonPhrase(statusText: string): boolean {
  return reasonPhrase.test(statusText)
}

/** True for the statuses a `Response` can be built with. */
export function isResponseStatus(status: number): boolean {
  return Number.isInteger(status) && status >= 200 && status <= 599
}
