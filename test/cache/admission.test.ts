import { describe, expect, it } from 'vitest'
import { TinyLfu } from '../../src/cache/admission.js'
import { hashKey } from '../../src/cache/frequency-sketch.js'
import { createMemoryKeyv } from '../../src/cache/memory-store.js'
import { resolveCache } from '../../src/cache/options.js'

const store = (admission: 'lru' | 'tinylfu') =>
  createMemoryKeyv({
    maxEntries: 2,
    maxTotalBytes: 1_048_576,
    maxBodyBytes: 100_000,
    namespace: 'test',
    admission,
  })

describe('cache.admission', () => {
  it('is tinylfu unless told, and names a bad value', () => {
    expect(resolveCache({}, false)).toMatchObject({ admission: 'tinylfu' })
    expect(resolveCache({ admission: 'lru' }, false)).toMatchObject({ admission: 'lru' })
    expect(() => resolveCache({ admission: 'lfu' }, false)).toThrow(
      /cache.admission must be one of "lru", "tinylfu", got "lfu"/,
    )
  })
})

describe('TinyLfu', () => {
  it('lets a key in only if it was asked for more often than the victim', () => {
    const policy = new TinyLfu(100)
    const [hot, cold] = [hashKey('hot'), hashKey('cold')]
    for (let i = 0; i < 3; i++) policy.record(hot)
    policy.record(cold)
    expect(policy.admits(hot, cold)).toBe(true)
    expect(policy.admits(cold, hot)).toBe(false)
    // A tie keeps the entry already held.
    expect(policy.admits(cold, cold)).toBe(false)
  })
})

describe('the memory store under tinylfu', () => {
  it('keeps popular entries when one-off keys pass, where lru lets them go', async () => {
    for (const [admission, kept] of [
      ['tinylfu', true],
      ['lru', false],
    ] as const) {
      const keyv = store(admission)
      for (const key of ['a', 'b']) {
        for (let i = 0; i < 3; i++) await keyv.get(key)
        await keyv.set(key, 1)
      }
      for (const key of ['x', 'y', 'z']) {
        expect(await keyv.get(key)).toBeUndefined()
        // Turned away, not failed: Keyv resolves true, and no error is raised.
        expect(await keyv.set(key, 2)).toBe(true)
      }
      expect(await keyv.get('a'), admission).toBe(kept ? 1 : undefined)
      expect(await keyv.get('b'), admission).toBe(kept ? 1 : undefined)
    }
  })

  it('always takes a new value for a key it holds, and one more while it has room', async () => {
    const keyv = store('tinylfu')
    await keyv.set('a', 1)
    await keyv.set('a', 2)
    await keyv.set('b', 3)
    expect(await keyv.get('a')).toBe(2)
    expect(await keyv.get('b')).toBe(3)
  })
})
