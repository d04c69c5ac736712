import { describe, expect, it } from 'vitest'
import { jsonEvents, parseEvents } from '../../src/ai/sse.js'

describe('parseEvents', () => {
  it('splits events on blank lines, names them, joins multi-line data, skips comments', () => {
    const text = ': comment\r\nevent: a\r\ndata: 1\r\ndata: 2\r\n\r\ndata:3\n\nevent: empty\n\n'
    expect(parseEvents(text)).toEqual([
      { event: 'a', data: '1\n2' },
      { event: 'message', data: '3' },
    ])
  })

  it('drops an unfinished last event', () => {
    expect(parseEvents('data: 1\n\ndata: 2')).toEqual([{ event: 'message', data: '1' }])
  })
})

describe('jsonEvents', () => {
  it('parses JSON payloads and skips sentinels', () => {
    expect(jsonEvents('data: {"a":1}\n\ndata: [DONE]\n\n')).toEqual([
      { event: 'message', value: { a: 1 } },
    ])
  })
})
