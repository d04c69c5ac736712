import { describe, expect, it } from 'vitest'
import { isResponseStatus, reasonPhraseOf } from '../../src/http/status-line.js'

describe('reasonPhraseOf', () => {
  it('keeps a phrase of visible ASCII, spaces, tabs and Latin-1', () => {
    for (const phrase of ['OK', 'Not Found', 'a\tb', 'Trés bien', '']) {
      expect(reasonPhraseOf(phrase)).toBe(phrase)
    }
  })

  it('drops a phrase a Response would refuse, for the empty one', () => {
    for (const phrase of ['OK ✓', 'OK 🚀', 'bad\r\nline', 'nul\u0000']) {
      expect(reasonPhraseOf(phrase), JSON.stringify(phrase)).toBe('')
      expect(() => new Response(null, { statusText: phrase })).toThrow()
    }
  })
})

describe('isResponseStatus', () => {
  it('accepts exactly the statuses a Response can be built with', () => {
    for (const status of [200, 204, 404, 599]) expect(isResponseStatus(status)).toBe(true)
    for (const status of [0, 101, 199, 600, 699, 999, 200.5]) {
      expect(isResponseStatus(status), String(status)).toBe(false)
    }
  })
})
