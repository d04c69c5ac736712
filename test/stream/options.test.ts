import { describe, expect, it } from 'vitest'
import { createFetch } from '../../src/index.js'
import { firstEventCommit } from '../../src/stream/first-event-commit.js'
import { resolveStream } from '../../src/stream/options.js'

describe('stream options', () => {
  it('are absent when neither is on', () => {
    expect(resolveStream({})).toBe(false)
    expect(resolveStream({ streamCommit: false, streamIdleTimeout: 0 })).toBe(false)
  })

  it('take true for the generic rule, or a rule of your own', () => {
    expect(resolveStream({ streamCommit: true })).toEqual({
      commit: firstEventCommit,
      idleTimeout: 0,
    })
    const rule = () => 'commit' as const
    expect(resolveStream({ streamCommit: rule, streamIdleTimeout: 5 })).toEqual({
      commit: rule,
      idleTimeout: 5,
    })
  })

  it('refuse bad values at construction, naming the option and the value', () => {
    expect(() => createFetch({ streamIdleTimeout: -1 })).toThrow(
      /streamIdleTimeout must be .*, got -1/,
    )
    expect(() => createFetch({ streamIdleTimeout: 2 ** 31 })).toThrow(RangeError)
    expect(() => createFetch({ streamCommit: 'yes' as never })).toThrow(
      new TypeError('streamCommit must be a boolean or a function, got "yes"'),
    )
  })
})
