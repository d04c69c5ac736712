import { describe, expect, it } from 'vitest'
import {
  boolean,
  checkKeys,
  func,
  integer,
  isNonEmptyString,
  list,
  maxMemoryCount,
  maxTimerMs,
  memoryCount,
  number,
  object,
  oneOf,
  show,
  timerMs,
} from '../../src/core/validate.js'

describe('show', () => {
  it('quotes a string, so that an empty or spaced one is visible', () => {
    expect(show('')).toBe('""')
    expect(show('a b')).toBe('"a b"')
  })

  it('names a function without printing its source', () => {
    expect(show(() => 'secret')).toBe('a function')
  })

  it('shows an array item by item, and an object without its contents', () => {
    expect(show([1, 'x', [null], { token: 'secret' }])).toBe('[1, "x", [null], an object]')
    expect(show({ token: 'secret' })).toBe('an object')
  })

  it('prints other values as String does', () => {
    expect([null, undefined, Number.NaN, -1, true, 10n].map(show)).toEqual([
      'null',
      'undefined',
      'NaN',
      '-1',
      'true',
      '10',
    ])
  })
})

describe('checkKeys and object', () => {
  it('names an unknown key with its option and lists the known ones', () => {
    expect(() => checkKeys('cache', { ttl: 1, tll: 2 }, ['ttl', 'max'])).toThrow(
      new TypeError('cache.tll is not an option; known: ttl, max'),
    )
  })

  it('hands back an object of known keys as it is', () => {
    const value = { ttl: 1 }
    expect(object('cache', value, ['ttl'])).toBe(value)
  })

  it('refuses a value that is no plain object, naming the option and the value', () => {
    expect(() => object('retry', null, [])).toThrow('retry must be an object or false, got null')
    expect(() => object('retry', [1], [])).toThrow('retry must be an object or false, got [1]')
    expect(() => object('retry', 'yes', [])).toThrow('retry must be an object or false, got "yes"')
  })
})

describe('number', () => {
  it('takes the fallback for undefined and keeps a value within the bounds', () => {
    expect(number('ratio', undefined, 0.5)).toBe(0.5)
    expect(number('ratio', 0, 0.5)).toBe(0)
    expect(number('ratio', 1, 0.5, 0, 1)).toBe(1)
  })

  it('refuses what is not a number, NaN included, as a TypeError', () => {
    expect(() => number('ratio', '1', 0)).toThrow(new TypeError('ratio must be a number, got "1"'))
    expect(() => number('ratio', Number.NaN, 0)).toThrow(
      new TypeError('ratio must be a number, got NaN'),
    )
  })

  it('refuses a value below min or not finite, and one above max, as a RangeError', () => {
    expect(() => number('ratio', -1, 0)).toThrow(
      new RangeError('ratio must be a finite number ≥ 0, got -1'),
    )
    expect(() => number('ratio', 0.5, 0, 1)).toThrow('ratio must be a finite number ≥ 1, got 0.5')
    expect(() => number('ratio', Number.POSITIVE_INFINITY, 0)).toThrow(
      'ratio must be a finite number ≥ 0, got Infinity',
    )
    expect(() => number('ratio', 1.5, 0, 0, 1)).toThrow(
      new RangeError('ratio must be at most 1, got 1.5'),
    )
  })
})

describe('timerMs', () => {
  it('accepts up to the longest wait a timer holds, and no more', () => {
    expect(timerMs('timeout', maxTimerMs, 0)).toBe(maxTimerMs)
    expect(() => timerMs('timeout', maxTimerMs + 1, 0)).toThrow(
      new RangeError(`timeout must be at most ${maxTimerMs} ms, got ${maxTimerMs + 1}`),
    )
  })

  it('holds to its min, and takes the fallback for undefined', () => {
    expect(timerMs('timeout', undefined, 30_000, 1)).toBe(30_000)
    expect(() => timerMs('timeout', 0, 30_000, 1)).toThrow(
      'timeout must be a finite number ≥ 1, got 0',
    )
  })
})

describe('integer and memoryCount', () => {
  it('refuses a fraction and a value below min as a RangeError', () => {
    expect(() => integer('attempts', 1.5, 3)).toThrow(
      new RangeError('attempts must be an integer ≥ 0, got 1.5'),
    )
    expect(() => integer('attempts', 0, 3, 1)).toThrow('attempts must be an integer ≥ 1, got 0')
  })

  it('refuses what is not a number as a TypeError, and a value above max', () => {
    expect(() => integer('attempts', '3', 3)).toThrow(
      new TypeError('attempts must be an integer, got "3"'),
    )
    expect(() => integer('attempts', 11, 3, 1, 10)).toThrow(
      new RangeError('attempts must be at most 10, got 11'),
    )
    expect(integer('attempts', 10, 3, 1, 10)).toBe(10)
    expect(integer('attempts', undefined, 3)).toBe(3)
  })

  it('holds a memory count to [1, maxMemoryCount]', () => {
    expect(memoryCount('cache.maxEntries', maxMemoryCount, 1)).toBe(maxMemoryCount)
    expect(() => memoryCount('cache.maxEntries', 0, 1)).toThrow(
      'cache.maxEntries must be an integer ≥ 1, got 0',
    )
    expect(() => memoryCount('cache.maxEntries', maxMemoryCount + 1, 1)).toThrow(
      `cache.maxEntries must be at most ${maxMemoryCount}, got ${maxMemoryCount + 1}`,
    )
  })
})

describe('boolean, oneOf and func', () => {
  it('takes a boolean or the fallback, and names anything else', () => {
    expect(boolean('stale', undefined, true)).toBe(true)
    expect(boolean('stale', false, true)).toBe(false)
    expect(() => boolean('stale', 'false', true)).toThrow(
      new TypeError('stale must be a boolean, got "false"'),
    )
  })

  it('lists the choices, quoted, when a value is none of them', () => {
    const modes = ['fallback', 'reject'] as const
    expect(oneOf('redis.onError', 'reject', 'fallback', modes)).toBe('reject')
    expect(oneOf('redis.onError', undefined, 'fallback', modes)).toBe('fallback')
    expect(() => oneOf('redis.onError', 'ignore', 'fallback', modes)).toThrow(
      new RangeError('redis.onError must be one of "fallback", "reject", got "ignore"'),
    )
  })

  it('takes a function or nothing, and names anything else', () => {
    const onEvent = () => {}
    expect(func('onEvent', onEvent)).toBe(onEvent)
    expect(func('onEvent', undefined)).toBeUndefined()
    expect(() => func('onEvent', { handle: onEvent })).toThrow(
      new TypeError('onEvent must be a function, got an object'),
    )
  })
})

describe('list and isNonEmptyString', () => {
  it('takes an array whose every item passes, or the fallback', () => {
    const fallback = ['GET']
    expect(list('methods', undefined, fallback, isNonEmptyString, 'strings')).toBe(fallback)
    expect(list('methods', ['GET', 'PUT'], fallback, isNonEmptyString, 'strings')).toEqual([
      'GET',
      'PUT',
    ])
  })

  it('names the option and the first item that fails, or the value that is no array', () => {
    expect(() => list('methods', ['GET', ''], [], isNonEmptyString, 'strings')).toThrow(
      new TypeError('methods must hold strings, got ""'),
    )
    expect(() => list('methods', 'GET', [], isNonEmptyString, 'strings')).toThrow(
      new TypeError('methods must be an array, got "GET"'),
    )
  })

  it('tells a string with something in it from an empty one and from other values', () => {
    expect([isNonEmptyString('a'), isNonEmptyString(''), isNonEmptyString(1)]).toEqual([
      true,
      false,
      false,
    ])
  })
})
