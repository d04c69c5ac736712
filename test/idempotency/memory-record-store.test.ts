import { describe, expect, it } from 'vitest'
import { MemoryRecordStore } from '../../src/idempotency/memory-record-store.js'
import { recordStoreConformance } from '../conformance/record-store.js'

recordStoreConformance('MemoryRecordStore', () => new MemoryRecordStore())

describe('MemoryRecordStore', () => {
  it('keeps at most maxRecords, dropping the least recently used', async () => {
    const store = new MemoryRecordStore({ maxRecords: 2 })
    for (const key of ['a', 'b', 'c']) await store.claim(key, 'fp', 30_000)
    expect((await store.claim('a', 'fp', 30_000)).status).toBe('claimed')
    expect((await store.claim('c', 'fp', 30_000)).status).toBe('inFlight')
    await store.close()
  })

  it('keeps nothing when a value cannot be cloned, and the record stays in flight', async () => {
    const store = new MemoryRecordStore()
    const claim = await store.claim('k', 'fp', 30_000)
    if (claim.status !== 'claimed') throw new Error(`not claimed: ${claim.status}`)
    const value = { run: () => 1 }
    await expect(
      store.complete('k', claim.token, { kind: 'value', value }, 60_000),
    ).rejects.toThrow()
    expect(await store.claim('k', 'fp', 30_000)).toEqual({ status: 'inFlight' })
    expect(await store.release('k', claim.token)).toBe(true)
    await store.close()
  })

  it('wakes its waiters when closed', async () => {
    const store = new MemoryRecordStore()
    await store.claim('k', 'fp', 30_000)
    const waiting = store.wait('k', undefined)
    await store.close()
    await expect(waiting).resolves.toBeUndefined()
  })
})
