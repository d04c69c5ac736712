import { randomUUID } from 'node:crypto'
import type Keyv from 'keyv'
import { afterEach, describe, expect, it } from 'vitest'
import type { EntryCodec } from '../../src/cache/codec.js'
import type { CacheEntry } from '../../src/cache/entry.js'
import type { Outcome } from '../../src/core/outcome.js'
import { delay } from '../helpers/upstream.js'

/** A Keyv store to test, with the codec the instance pairs with it, and how to let it go. */
export interface CacheStoreUnderTest {
  readonly keyv: Keyv
  /** `rawCodec` for the private memory store, `jsonCodec` for Redis and a user's store. */
  readonly codec: EntryCodec
  /** Closes what the store holds open (a connection); nothing to do when left out. */
  readonly close?: () => Promise<void>
}

const times = {
  storedAt: 1_700_000_000_000,
  freshUntil: 1_700_000_060_000,
  staleWhileRevalidateUntil: 1_700_000_120_000,
  staleIfErrorUntil: 1_700_000_180_000,
}

/** Every byte value once, so that a codec that turns bytes into text loses some. */
const everyByte = Uint8Array.from({ length: 256 }, (_, i) => i)

function entryOf(outcome: Outcome): CacheEntry {
  return { outcome, times }
}

/** A 200 with a binary body and a repeated header, as the transport buffers one. */
const binary = entryOf({
  kind: 'http',
  status: 200,
  statusText: 'OK',
  headers: [
    ['content-type', 'application/octet-stream'],
    ['vary', 'accept'],
    ['vary', 'accept-encoding'],
  ],
  body: everyByte,
  url: 'http://127.0.0.1:1/blob',
})

const minute = 60_000

/**
 * What the cache stage needs of a Keyv store, run against each one it is given (memory, Redis,
 * a user's): entries set with a TTL read back through the instance's codec as they were
 * written, are gone when the TTL ends, and delete and clear forget them. Keys are fresh per
 * test and every test opens a store of its own, so a shared Redis never mixes them up.
 */
export function cacheStoreConformance(
  name: string,
  makeStore: () => CacheStoreUnderTest | Promise<CacheStoreUnderTest>,
): void {
  describe(`${name} (cache store conformance)`, () => {
    const opened: CacheStoreUnderTest[] = []
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((s) => s.close?.()))
    })
    const open = async () => {
      const store = await makeStore()
      opened.push(store)
      return store
    }
    const fresh = () => `key-${randomUUID()}`
    /** Writes `entry` as the cache stage does, and reads it back through the codec. */
    const roundTrip = async (entry: CacheEntry, ttl = minute) => {
      const { keyv, codec } = await open()
      const key = fresh()
      expect(await keyv.set(key, codec.encode(entry), ttl)).toBe(true)
      return codec.decode(await keyv.get(key))
    }

    it('reads back an HTTP entry with its status, headers in order and every body byte', async () => {
      const read = await roundTrip(binary)
      expect(read).toEqual(binary)
      if (read?.outcome.kind !== 'http') throw new Error('no http entry read back')
      expect(read.outcome.body).toBeInstanceOf(Uint8Array)
    })

    it('reads back an HTTP entry without a body as one without a body', async () => {
      const empty = entryOf({
        kind: 'http',
        status: 204,
        statusText: 'No Content',
        headers: [],
        body: null,
        url: 'http://127.0.0.1:1/none',
      })
      expect(await roundTrip(empty)).toEqual(empty)
    })

    it('reads back a wrapped function’s value, nested objects and arrays included', async () => {
      const value = entryOf({
        kind: 'value',
        value: { id: 'msg_1', content: [{ type: 'text', text: 'héllo ✓' }], n: 3, ok: null },
      })
      expect(await roundTrip(value)).toEqual(value)
    })

    it('misses a key that was never set', async () => {
      const { keyv } = await open()
      expect(await keyv.get(fresh())).toBeUndefined()
    })

    it('keeps the entries of different keys apart, and the last one set under a key', async () => {
      const { keyv, codec } = await open()
      const [a, b] = [fresh(), fresh()]
      const other = entryOf({ kind: 'value', value: 'b' })
      await keyv.set(a, codec.encode(entryOf({ kind: 'value', value: 'first' })), minute)
      await keyv.set(a, codec.encode(binary), minute)
      await keyv.set(b, codec.encode(other), minute)
      expect(codec.decode(await keyv.get(a))).toEqual(binary)
      expect(codec.decode(await keyv.get(b))).toEqual(other)
    })

    it('forgets an entry once its TTL has passed, and keeps one whose TTL has not', async () => {
      const { keyv, codec } = await open()
      const [short, long] = [fresh(), fresh()]
      await keyv.set(short, codec.encode(binary), 40)
      await keyv.set(long, codec.encode(binary), minute)
      expect(codec.decode(await keyv.get(short))).toEqual(binary)
      await delay(120)
      expect(await keyv.get(short)).toBeUndefined()
      expect(codec.decode(await keyv.get(long))).toEqual(binary)
    })

    it('deletes one entry, saying whether there was one, and leaves the others', async () => {
      const { keyv, codec } = await open()
      const [gone, kept] = [fresh(), fresh()]
      await keyv.set(gone, codec.encode(binary), minute)
      await keyv.set(kept, codec.encode(binary), minute)
      expect(await keyv.delete(gone)).toBe(true)
      expect(await keyv.get(gone)).toBeUndefined()
      expect(await keyv.delete(gone)).toBe(false)
      expect(codec.decode(await keyv.get(kept))).toEqual(binary)
    })

    it('clears every entry it holds', async () => {
      const { keyv, codec } = await open()
      const keys = [fresh(), fresh(), fresh()]
      for (const key of keys) await keyv.set(key, codec.encode(binary), minute)
      await keyv.clear()
      for (const key of keys) expect(await keyv.get(key)).toBeUndefined()
    })

    it('hands back what is no entry so that the codec reads it as nothing', async () => {
      const { keyv, codec } = await open()
      const foreign = fresh()
      // What other code sharing the store, or an older version, may have left under a key.
      await keyv.set(foreign, { outcome: { kind: 'http', status: 'two hundred' } }, minute)
      expect(await keyv.get(foreign)).toBeDefined()
      expect(codec.decode(await keyv.get(foreign))).toBeUndefined()
      await keyv.set(foreign, 'plain text', minute)
      expect(codec.decode(await keyv.get(foreign))).toBeUndefined()
    })
  })
}
