/**
 * What the memory store would serve under an admission policy, replayed on a trace's keys: the
 * very rule of the store (`TinyLfu` over the same sketch), over an LRU with a TTL from each
 * fetch, as the store keeps them. Pure and synchronous: a million requests take well under a
 * second, where a replay through the cache stage takes seconds.
 */
import { type Admission, TinyLfu } from '../cache/admission.js'
import { hashKey } from '../cache/frequency-sketch.js'
import type { Lookups } from './optimal.js'

/** Each key's hash, by key id: what the store would hash, computed once per key. */
export function keyHashes(keys: readonly string[]): Uint32Array {
  const hashes = new Uint32Array(keys.length)
  for (let i = 0; i < keys.length; i++) hashes[i] = hashKey(keys[i] as string)
  return hashes
}

/**
 * Which lookups (1) a store of `maxEntries` entries under `admission` serves, each entry fresh
 * for `ttlMs` after its fetch. As in the store with a TTL, an expired entry is dropped when it
 * is next asked for, and its refetch is a new entry that the policy may turn away.
 */
export function admissionHits(
  lookups: Lookups,
  hashes: Uint32Array,
  maxEntries: number,
  ttlMs: number,
  admission: Admission,
): Uint8Array {
  if (!Number.isInteger(maxEntries) || maxEntries < 1) {
    throw new RangeError(`maxEntries must be a whole number ≥ 1, got ${maxEntries}`)
  }
  if (!(ttlMs > 0)) throw new RangeError(`ttlMs must be above 0, got ${ttlMs}`)
  const { keyIds, times } = lookups
  const policy = admission === 'tinylfu' ? new TinyLfu(maxEntries) : undefined
  // Key id → expiry; a Map iterates in insertion order, so deleting and setting again makes an
  // entry the most recently used, and the first key is the least.
  const held = new Map<number, number>()
  const hits = new Uint8Array(keyIds.length)
  for (let i = 0; i < keyIds.length; i++) {
    const k = keyIds[i] as number
    const t = times[i] as number
    const hash = hashes[k] as number
    policy?.record(hash)
    const expires = held.get(k)
    if (expires !== undefined) {
      held.delete(k)
      if (t < expires) {
        hits[i] = 1
        held.set(k, expires)
        continue
      }
    }
    if (held.size >= maxEntries) {
      const victim = held.keys().next().value as number
      if (policy !== undefined && !policy.admits(hash, hashes[victim] as number)) continue
      held.delete(victim)
    }
    held.set(k, t + ttlMs)
  }
  return hits
}
