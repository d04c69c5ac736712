/** A header list as stored: lower-case names, in order; `set-cookie` may repeat. */
export type HeaderPairs = ReadonlyArray<readonly [name: string, value: string]>

/** An HTTP response as plain data, so that it can be stored and handed to many callers. */
export interface HttpOutcome {
  readonly kind: 'http'
  readonly status: number
  readonly statusText: string
  readonly headers: HeaderPairs
  /**
   * The complete body, or a live stream when the body is passed through unbuffered (an event
   * stream, or a call nobody shares). A live outcome is never stored or shared.
   */
  readonly body: Uint8Array | ReadableStream<Uint8Array> | null
  /** The final URL of the response. */
  readonly url: string
}

/** What a wrapped function resolved with. */
export interface ValueOutcome {
  readonly kind: 'value'
  readonly value: unknown
}

export type Outcome = HttpOutcome | ValueOutcome

/** True when the body is complete bytes (storable, shareable), not a live stream. */
export function isComplete(
  outcome: Outcome,
): outcome is ValueOutcome | (HttpOutcome & { readonly body: Uint8Array | null }) {
  return outcome.kind === 'value' || !(outcome.body instanceof ReadableStream)
}

/** Releases a live body that will not be read (a retried or discarded attempt). */
export function discard(outcome: Outcome): void {
  if (outcome.kind === 'http' && outcome.body instanceof ReadableStream) {
    outcome.body.cancel().catch(() => {})
  }
}
