function mediaTypeOf(contentType: string): string {
  const semicolon = contentType.indexOf(';')
  return (semicolon === -1 ? contentType : contentType.slice(0, semicolon)).trim().toLowerCase()
}

/** True for a `content-type` of `text/event-stream`, whatever its parameters. */
export function isEventStream(contentType: string): boolean {
  return mediaTypeOf(contentType) === 'text/event-stream'
}
