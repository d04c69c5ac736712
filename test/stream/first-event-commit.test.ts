import { describe, expect, it } from 'vitest'
import { errorStatus, firstEventCommit } from '../../src/stream/first-event-commit.js'

const message = (data: string, event = 'message') => ({ event, data })

describe('firstEventCommit', () => {
  it('commits on the first event that is not an error, JSON or not', () => {
    expect(firstEventCommit(message('{"text":"hi"}'))).toBe('commit')
    expect(firstEventCommit(message('plain words'))).toBe('commit')
    expect(firstEventCommit(message('[DONE]'))).toBe('commit')
  })

  it('fails on an error event with the status it carries, else 500', () => {
    expect(firstEventCommit(message('{"error":{"code":429}}'))).toEqual({
      status: 429,
      body: { error: { code: 429 } },
    })
    expect(firstEventCommit(message('{"type":"error","status":"503"}'))).toMatchObject({
      status: 503,
    })
    expect(firstEventCommit(message('{"error":"boom"}'))).toMatchObject({ status: 500 })
    expect(firstEventCommit(message('gone wrong', 'error'))).toEqual({
      status: 500,
      body: { error: { message: 'gone wrong' } },
    })
  })
})

describe('errorStatus', () => {
  it('reads an error status from a number or a three-digit string, 400 to 599', () => {
    expect(errorStatus(404)).toBe(404)
    expect(errorStatus('529')).toBe(529)
    expect(errorStatus(200)).toBeUndefined()
    expect(errorStatus('4xx')).toBeUndefined()
    expect(errorStatus(429.5)).toBeUndefined()
  })
})
