import { describe, expect, it } from 'vitest'
import { jsonCodec, rawCodec } from '../../src/cache/codec.js'
import type { CacheEntry } from '../../src/cache/entry.js'
import { httpOutcome } from '../helpers/call.js'

const times = { storedAt: 1, freshUntil: 2, staleWhileRevalidateUntil: 3, staleIfErrorUntil: 4 }
const entry: CacheEntry = { outcome: httpOutcome(200, 'héllo'), times }

describe('jsonCodec', () => {
  it('survives a JSON round trip with the body bytes intact', () => {
    const back = jsonCodec.decode(JSON.parse(JSON.stringify(jsonCodec.encode(entry))))
    expect(back).toEqual(entry)
    expect(back?.outcome.kind === 'http' && back.outcome.body).toBeInstanceOf(Uint8Array)
  })

  it('keeps a null body null and value outcomes as they are', () => {
    const empty: CacheEntry = { outcome: { ...httpOutcome(204), body: null }, times }
    expect(jsonCodec.decode(JSON.parse(JSON.stringify(jsonCodec.encode(empty))))).toEqual(empty)
    const value: CacheEntry = { outcome: { kind: 'value', value: { a: [1] } }, times }
    expect(jsonCodec.decode(JSON.parse(JSON.stringify(jsonCodec.encode(value))))).toEqual(value)
  })

  it('reads foreign or corrupt values as nothing', () => {
    expect(jsonCodec.decode('a string')).toBeUndefined()
    expect(jsonCodec.decode({ times, outcome: { kind: 'http', body64: 42 } })).toBeUndefined()
    expect(jsonCodec.decode({ times: {}, outcome: { kind: 'value', value: 1 } })).toBeUndefined()
  })
})

describe('rawCodec', () => {
  it('hands the entry through and refuses what is not one', () => {
    expect(rawCodec.decode(rawCodec.encode(entry))).toBe(entry)
    expect(rawCodec.decode({ outcome: 1 })).toBeUndefined()
  })
})
