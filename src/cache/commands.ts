/**
 * What users command of the cache (`fetch.cache`, `wrapped.cache`): delete what one call
 * stored, drop what calls with a tag stored, clear it all. Everything lives in the store, so
 * on Redis a command from one process is seen by every process at once (after at most
 * `redis.l1.ttl` where an in-process L1 is on).
 */
import { hash } from 'node:crypto'
import type Keyv from 'keyv'

/** The cache's commands over its store; each rejects when the store fails. */
export interface CacheCommands {
  /** Deletes what is stored under these keys. */
  delete(keys: readonly string[]): Promise<void>
  /** Deletes every entry a call tagged `tag` stored, and the tag's index. */
  invalidateTag(tag: string): Promise<void>
  /** Deletes everything in the cache's store (its Keyv namespace). */
  clear(): Promise<void>
}

/** What the store keeps under a tag: the keys tagged with it, and until when one may live. */
interface TagIndex {
  readonly tagged: readonly string[]
  /** Clock ms at which the longest-lived tagged entry goes; the index lives as long. */
  readonly until: number
}

/** Most keys one tag indexes; past it the oldest are forgotten (they expire by themselves). */
export const maxTagged = 10_000

/** The store key of a tag's index; apart from every entry key, which is a bare hex hash. */
export const tagKey = (tag: string): string =>
  `tag:${hash('sha256', JSON.stringify(['TAG', tag]), 'hex')}`

function isTagIndex(value: unknown): value is TagIndex {
  if (typeof value !== 'object' || value === null) return false
  const { tagged, until } = value as { tagged?: unknown; until?: unknown }
  return (
    Array.isArray(tagged) && tagged.every((k) => typeof k === 'string') && Number.isFinite(until)
  )
}

/** Adds `key`, kept `ttl` ms from `now`, to the index of each tag. */
export async function addToTags(
  store: Keyv,
  tags: readonly string[],
  key: string,
  now: number,
  ttl: number,
): Promise<void> {
  for (const tag of tags) {
    const found: unknown = await store.get(tagKey(tag))
    const index: TagIndex = isTagIndex(found) ? found : { tagged: [], until: 0 }
    const tagged = index.tagged.includes(key) ? index.tagged : [...index.tagged, key]
    const until = Math.max(index.until, now + ttl)
    await store.set(tagKey(tag), { tagged: tagged.slice(-maxTagged), until }, until - now)
  }
}

/** The commands over `store`. */
export function createCommands(store: Keyv): CacheCommands {
  return {
    async delete(keys) {
      await Promise.all([...new Set(keys)].map((key) => store.delete(key)))
    },
    async invalidateTag(tag) {
      const found: unknown = await store.get(tagKey(tag))
      const keys = isTagIndex(found) ? found.tagged : []
      await Promise.all(keys.map((key) => store.delete(key)))
      await store.delete(tagKey(tag))
    },
    clear: () => store.clear(),
  }
}
