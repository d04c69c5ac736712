import { describe, expect, it } from 'vitest'
import type { CacheEntry } from '../../src/cache/entry.js'
import { createMemoryKeyv, type MemoryKeyvOptions } from '../../src/cache/memory-store.js'
import type { Outcome } from '../../src/core/outcome.js'
import { httpOutcome } from '../helpers/call.js'

const options = (overrides: Partial<MemoryKeyvOptions> = {}): MemoryKeyvOptions => ({
  maxEntries: 100,
  maxTotalBytes: 1_048_576,
  maxBodyBytes: 100_000,
  namespace: 'test',
  ...overrides,
})

const times = { storedAt: 0, freshUntil: 1, staleWhileRevalidateUntil: 1, staleIfErrorUntil: 1 }
const entry = (outcome: Outcome = httpOutcome()): CacheEntry => ({ outcome, times })
const sized = (bytes: number): CacheEntry => entry(httpOutcome(200, 'x'.repeat(bytes)))
const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe('createMemoryKeyv', () => {
  it('keeps raw objects: a get hands back the very entry that was set', async () => {
    const keyv = createMemoryKeyv(options())
    const stored = entry()
    await keyv.set('k', stored)
    expect(await keyv.get('k')).toBe(stored)
  })

  it('accepts a ttl as Keyv passes it, a bare number', async () => {
    const keyv = createMemoryKeyv(options())
    const errors: unknown[] = []
    keyv.on('error', (error) => errors.push(error))
    expect(await keyv.set('k', entry(), 60_000)).toBe(true)
    expect(await keyv.get('k')).toBeDefined()
    expect(errors).toEqual([])
  })

  it('lets an entry expire when its ttl runs out', async () => {
    const keyv = createMemoryKeyv(options())
    await keyv.set('short', entry(), 40)
    await keyv.set('long', entry(), 60_000)
    expect(await keyv.has('short')).toBe(true)
    await delay(80)
    expect(await keyv.get('short')).toBeUndefined()
    expect(await keyv.has('short')).toBe(false)
    expect(await keyv.get('long')).toBeDefined()
  })

  it('evicts the least recently used entry past maxEntries under lru admission', async () => {
    const keyv = createMemoryKeyv(options({ maxEntries: 2, admission: 'lru' }))
    await keyv.set('a', entry())
    await keyv.set('b', entry())
    await keyv.get('a')
    await keyv.set('c', entry())
    expect(await keyv.has('a')).toBe(true)
    expect(await keyv.has('b')).toBe(false)
    expect(await keyv.has('c')).toBe(true)
  })

  it('evicts by bytes past maxTotalBytes', async () => {
    const keyv = createMemoryKeyv(options({ maxTotalBytes: 3_000 }))
    await keyv.set('a', sized(1_000))
    await keyv.set('b', sized(1_000))
    expect(await keyv.has('a')).toBe(true)
    await keyv.set('c', sized(1_000))
    expect(await keyv.has('a')).toBe(false)
    expect(await keyv.has('b')).toBe(true)
    expect(await keyv.has('c')).toBe(true)
  })

  it('counts many small entries by their bytes, not only by their number', async () => {
    const keyv = createMemoryKeyv(options({ maxTotalBytes: 10_000 }))
    for (let i = 0; i < 50; i++) await keyv.set(`k${i}`, sized(500))
    let kept = 0
    for (let i = 0; i < 50; i++) if (await keyv.has(`k${i}`)) kept++
    expect(kept).toBeGreaterThan(5)
    expect(kept).toBeLessThan(20)
  })

  it('refuses an entry larger than one entry may be, and says so', async () => {
    const keyv = createMemoryKeyv(options({ maxBodyBytes: 1_000 }))
    expect(await keyv.set('big', sized(100_000))).toBe(false)
    expect(await keyv.get('big')).toBeUndefined()
    expect(await keyv.set('fits', sized(1_000))).toBe(true)
  })

  it('sizes a value outcome by its JSON, and stores one it cannot measure', async () => {
    const keyv = createMemoryKeyv(options({ maxBodyBytes: 1_000 }))
    const large = { kind: 'value' as const, value: { text: 'x'.repeat(100_000) } }
    expect(await keyv.set('large', entry(large))).toBe(false)
    const cyclic: { self?: unknown } = {}
    cyclic.self = cyclic
    expect(await keyv.set('cyclic', entry({ kind: 'value', value: cyclic }))).toBe(true)
    expect(await keyv.set('plain', 'not an entry')).toBe(true)
  })

  it('deletes and clears', async () => {
    const keyv = createMemoryKeyv(options())
    await keyv.set('a', entry())
    await keyv.set('b', entry())
    expect(await keyv.delete('a')).toBe(true)
    expect(await keyv.has('a')).toBe(false)
    await keyv.clear()
    expect(await keyv.has('b')).toBe(false)
  })

  it('prefixes every key with its namespace', async () => {
    const keyv = createMemoryKeyv(options({ namespace: 'bw' }))
    await keyv.set('k', entry())
    expect(await keyv.store.has('bw:k')).toBe(true)
    expect(await keyv.store.has('k')).toBe(false)
  })
})
