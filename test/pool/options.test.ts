import { describe, expect, it } from 'vitest'
import { createFetch } from '../../src/fetch.js'
import { type ResolvedPool, resolvePool } from '../../src/pool/options.js'
import { wrap } from '../../src/wrap.js'

/** The pool `value` resolves to; these tests all turn it on. */
function on(value: unknown): ResolvedPool {
  const pool = resolvePool(value)
  if (pool === false) throw new Error('pool is on')
  return pool
}

describe('resolvePool', () => {
  it('is off unless given', () => {
    expect(resolvePool(undefined)).toBe(false)
    expect(resolvePool(false)).toBe(false)
  })

  it('makes the call as it is the one target when only fallbacks are given', () => {
    const pool = on({ fallbacks: [{ name: 'backup', origin: 'http://127.0.0.1:9' }] })
    expect(pool.targets.map((t) => [t.name, t.tier])).toEqual([
      ['primary', 0],
      ['backup', 1],
    ])
  })

  it('gives each fallback a tier of its own, after the targets', () => {
    const pool = on({
      targets: [{ name: 'a' }, { name: 'b', weight: 2 }],
      fallbacks: [{ name: 'c' }, { name: 'd' }],
    })
    expect(pool.targets.map((t) => [t.name, t.tier, t.weight])).toEqual([
      ['a', 0, 1],
      ['b', 0, 2],
      ['c', 1, 1],
      ['d', 2, 1],
    ])
    expect(pool.cooldown).toBe(10_000)
  })

  it('names the option and the value it refuses', () => {
    expect(() => resolvePool({ targets: [] })).toThrow(
      'pool.targets must be a non-empty array of targets, got []',
    )
    expect(() => resolvePool({ targets: [{ name: '' }] })).toThrow(
      'pool.targets[0].name must be a non-empty string, got ""',
    )
    expect(() => resolvePool({ targets: [{ name: 'a', weight: 0 }] })).toThrow(
      'pool.targets[0].weight must be a finite number',
    )
    expect(() => resolvePool({ targets: [{ name: 'a' }, { name: 'a' }] })).toThrow(
      'pool target names must be unique, got "a" twice',
    )
    expect(() => resolvePool({ targets: [{ name: 'a', origin: 'ftp://x' }] })).toThrow(
      'pool.targets[0].origin must be an http(s) URL\'s origin, got "ftp://x"',
    )
    expect(() => resolvePool({ targets: [{ name: 'a', headers: { 'x-api-key': 1 } }] })).toThrow(
      'pool.targets[0].headers must be an object of header strings',
    )
    expect(() => resolvePool({ targets: [{ name: 'a', url: 'x' }] })).toThrow(
      'pool.targets[0].url is not an option',
    )
    expect(() => resolvePool({ failoverOn: { statuses: [200] } })).toThrow(
      'pool.failoverOn.statuses must be an array of statuses 400–599, got [200]',
    )
    expect(() => resolvePool({ cooldown: -1 })).toThrow('pool.cooldown must be a finite number')
  })

  it('refuses a function target for a fetch and a request rewrite for a wrap', () => {
    expect(() => createFetch({ pool: { targets: [{ name: 'a', fn: () => 1 } as never] } })).toThrow(
      'pool target "a": createFetch takes no fn',
    )
    expect(() =>
      wrap(async () => 1, { pool: { targets: [{ name: 'a', origin: 'http://x' } as never] } }),
    ).toThrow('pool target "a": wrap takes no origin')
  })
})
