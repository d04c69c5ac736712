/**
 * Lets a live body flow to its reader while keeping a copy, so that what needs the whole body
 * (the cache storing an event stream, a rate limit reading `usage`) gets it once the reader
 * has read to the end, without a second read or a wait for the caller.
 */

/**
 * A stream that passes `body` through and, when it ends cleanly, hands `onComplete` every byte
 * it carried. A reader that cancels, an upstream error, or a body past `maxBytes` calls
 * nothing: half a body is never taken for a whole one. The reader sees the end only after
 * `onComplete` settled, so what it does is done by the time the caller's `await` returns.
 */
export function captureStream(
  body: ReadableStream<Uint8Array>,
  maxBytes: number,
  onComplete: (bytes: Uint8Array) => Promise<void> | void,
): ReadableStream<Uint8Array> {
  let chunks: Uint8Array[] | undefined = []
  let size = 0
  return body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        if (chunks !== undefined) {
          size += chunk.byteLength
          if (size > maxBytes) chunks = undefined
          else chunks.push(chunk)
        }
        controller.enqueue(chunk)
      },
      async flush() {
        if (chunks === undefined) return
        const bytes = new Uint8Array(size)
        let at = 0
        for (const chunk of chunks) {
          bytes.set(chunk, at)
          at += chunk.byteLength
        }
        chunks = undefined
        try {
          await onComplete(bytes)
        } catch {
          // The caller's stream is whole whatever the copy's use does.
        }
      },
    }),
  )
}
