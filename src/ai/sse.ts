/** Server-sent events, read from a complete stream's text: pure. */

export interface ServerEvent {
  /** The `event:` field, or `'message'` when the event names none. */
  readonly event: string
  /** The `data:` lines joined by newlines. */
  readonly data: string
}

/**
 * The events of a `text/event-stream` body (WHATWG HTML §9.2.6): blank lines end events,
 * comments (`:`) are skipped, an event without data is dropped, and so is an unfinished last one.
 */
export function parseEvents(text: string): ServerEvent[] {
  const events: ServerEvent[] = []
  let event = ''
  let data: string[] = []
  const lines = text.split(/\r\n|\r|\n/)
  // The last piece follows the last line break: a line still being written, never an event.
  lines.pop()
  for (const line of lines) {
    if (line === '') {
      if (data.length > 0) events.push({ event: event || 'message', data: data.join('\n') })
      event = ''
      data = []
      continue
    }
    if (line.startsWith(':')) continue
    const colon = line.indexOf(':')
    const field = colon === -1 ? line : line.slice(0, colon)
    let value = colon === -1 ? '' : line.slice(colon + 1)
    if (value.startsWith(' ')) value = value.slice(1)
    if (field === 'event') event = value
    else if (field === 'data') data.push(value)
  }
  return events
}

/** One event's name and its data parsed as JSON. */
export interface JsonEvent {
  readonly event: string
  readonly value: unknown
}

/** The JSON payload of each event, skipping what is not JSON (OpenAI's closing `[DONE]`). */
export function jsonEvents(text: string): JsonEvent[] {
  const found: JsonEvent[] = []
  for (const { event, data } of parseEvents(text)) {
    try {
      found.push({ event, value: JSON.parse(data) })
    } catch {
      // not JSON: a sentinel, not a payload
    }
  }
  return found
}
