/** What a breaker scope function, a `retryOn` hook and events may know of a call. */
export interface CallInfo {
  /** Upper-case HTTP method; `'CALL'` for a wrapped function. */
  readonly method: string
  /** Absolute URL; `''` for a wrapped function. */
  readonly url: string
  /** `scheme://host[:port]`, or the wrapped function's name. */
  readonly origin: string
}
