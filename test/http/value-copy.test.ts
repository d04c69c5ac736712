import { describe, expect, it } from 'vitest'
import { cloneValue } from '../../src/http/value-copy.js'

describe('cloneValue', () => {
  it('hands primitives back as their own copy, undefined and null included', () => {
    for (const value of [undefined, null, 0, 1n, '', 'text', true, Number.NaN]) {
      expect(cloneValue(value)).toEqual({ value })
    }
  })

  it('copies objects deeply, so that changing the copy leaves the original alone', () => {
    const original = { list: [1, { deep: 'a' }], at: new Date(0), map: new Map([['k', 1]]) }
    const copy = cloneValue(original)?.value as typeof original
    expect(copy).toEqual(original)
    expect(copy).not.toBe(original)
    ;(copy.list[1] as { deep: string }).deep = 'b'
    copy.map.set('k', 2)
    expect(original.list[1]).toEqual({ deep: 'a' })
    expect(original.map.get('k')).toBe(1)
  })

  it('keeps cycles and shared references as they are', () => {
    interface Node {
      a: { n: number }
      b: { n: number }
      self?: Node
    }
    const shared = { n: 1 }
    const original: Node = { a: shared, b: shared }
    original.self = original
    const copy = cloneValue(original)?.value as Node
    expect(copy.self).toBe(copy)
    expect(copy.a).toBe(copy.b)
    expect(copy.a).not.toBe(shared)
  })

  it('has no copy of what cannot be cloned', () => {
    for (const value of [() => 1, Symbol('s'), { fn: () => 1 }, new ReadableStream()]) {
      expect(cloneValue(value)).toBeUndefined()
    }
  })
})
