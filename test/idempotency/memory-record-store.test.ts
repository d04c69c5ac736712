import { describe, expect, it } from 'vitest'
import { MemoryRecordStore } from '../../src/idempotency/memory-record-store.js'
import { recordStoreConformance } from '../conformance/record-store.js'

recordStoreConformance('MemoryRecordStore', () => new MemoryRecordStore())

describe('MemoryRecordStore', () => {
  it('keeps at most maxRecords, dropping the least recently used', async () => {
    const store = new MemoryRecordStore({ maxRecords: 2 })
    for (const key of ['a', 'b', 'c']) await store.claim(key, 'fp', 30_000, 86_400_000)
    expect((await store.claim('a', 'fp', 30_000, 86_400_000)).status).toBe('claimed')
    expect((await store.claim('c', 'fp', 30_000, 86_400_000)).status).toBe('inFlight')
    await store.close()
  })

  it('keeps nothing when a value cannot be cloned, and the record stays in flight', async () => {
    const store = new MemoryRecordStore()
    const claim = await store.claim('k', 'fp', 30_000, 86_400_000)
    if (claim.status !== 'claimed') throw new Error(`not claimed: ${claim.status}`)
    const value = { run: () => 1 }
    await expect(
      store.complete('k', claim.token, { kind: 'value', value }, 60_000),
    ).rejects.toThrow()
    expect(await store.claim('k', 'fp', 30_000, 86_400_000)).toEqual({ status: 'inFlight' })
    expect(await store.release('k', claim.token)).toBe(true)
    await store.close()
  })

  it('holds a record under a token issued elsewhere, only while the key is free', async () => {
    const store = new MemoryRecordStore()
    expect(store.hold('k', 'fp', 'shared-token', 30_000)).toBe(true)
    expect(store.hold('k', 'fp', 'another', 30_000)).toBe(false)
    expect(await store.claim('k', 'fp', 30_000, 86_400_000)).toEqual({ status: 'inFlight' })
    expect(await store.renew('k', 'shared-token', 30_000)).toBe(true)
    const value = { kind: 'value', value: 1 } as const
    expect(await store.complete('k', 'shared-token', value, 60_000)).toBe(true)
    expect(await store.claim('k', 'fp', 30_000, 86_400_000)).toMatchObject({
      status: 'done',
      outcome: value,
    })
    await store.close()
  })

  it('keeps an outcome recorded elsewhere for what is left of its TTL, never for 0 ms', async () => {
    const store = new MemoryRecordStore()
    const value = { kind: 'value', value: { id: 1 } } as const
    // lru-cache would read a TTL of 0 as "for ever".
    expect(store.keep('none', 'fp', value, 0)).toBe(false)
    expect(store.holds('none')).toBe(false)
    expect(store.keep('k', 'fp', value, 60)).toBe(true)
    expect(store.keep('k', 'fp', { kind: 'value', value: 2 }, 60_000)).toBe(false)
    expect(await store.claim('k', 'other', 30_000, 86_400_000)).toEqual({ status: 'conflict' })
    expect(await store.claim('k', 'fp', 30_000, 86_400_000)).toMatchObject({
      status: 'done',
      outcome: value,
    })
    await new Promise((resolve) => setTimeout(resolve, 120))
    expect((await store.claim('k', 'fp', 30_000, 86_400_000)).status).toBe('claimed')
    await store.close()
  })

  it('judges leases on the clock it is given', async () => {
    const time = { now: 0 }
    const store = new MemoryRecordStore({ clock: { now: () => time.now } })
    const first = await store.claim('k', 'fp', 30_000, 86_400_000)
    if (first.status !== 'claimed') throw new Error(`not claimed: ${first.status}`)
    time.now += 29_999
    expect(await store.claim('k', 'fp', 30_000, 86_400_000)).toEqual({ status: 'inFlight' })
    expect(await store.renew('k', first.token, 30_000)).toBe(true)
    expect(await store.markSent('k', first.token)).toBe(true)
    time.now += 30_000
    const taken = await store.claim('k', 'fp', 30_000, 86_400_000)
    expect(taken).toMatchObject({ status: 'claimed', abandoned: true })
    // A copy of a shared store's claim is forgotten with its lease, never kept abandoned.
    expect(store.hold('copy', 'fp', 'shared-token', 30_000)).toBe(true)
    time.now += 30_000
    expect(store.holds('copy')).toBe(false)
    expect(await store.claim('copy', 'fp', 30_000, 86_400_000)).toEqual({
      status: 'claimed',
      token: expect.any(String),
    })
    await store.close()
  })

  it('wakes its waiters when closed', async () => {
    const store = new MemoryRecordStore()
    await store.claim('k', 'fp', 30_000, 86_400_000)
    const waiting = store.wait('k', undefined)
    await store.close()
    await expect(waiting).resolves.toBeUndefined()
  })
})
