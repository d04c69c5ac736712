/**
 * The caches the hit-rate scenario sizes: breakwater under each admission policy and
 * cache-manager over lru-cache, all in front of one in-process upstream that counts its calls.
 */
import { createCache } from 'cache-manager'
import { Keyv } from 'keyv'
import { createMemoryKeyv } from '../../src/cache/memory-store.js'
import { wrap } from '../../src/index.js'
import { KeyvLru } from './keyv-lru.js'

// Longer than any run: the hit ratios are about the cache's size, not about age.
export const ttl = 600_000

/** A cache of some size in front of the upstream: how to GET through it, and its own hit count. */
export interface SizedSubject {
  readonly name: string
  readonly role: 'subject' | 'peer'
  readonly config: string
  get(url: string): Promise<void>
  hits?(): number
  close(): Promise<void>
}

/**
 * The upstream, in process, answering a 256-byte body: a sweep of millions of calls through
 * loopback HTTP would take the bench tens of minutes, and what is measured here is which calls
 * reach it, not what they cost.
 */
export function createUpstream() {
  let calls = 0
  const body = 'x'.repeat(256)
  const answer = async (_url: string) => {
    calls++
    return body
  }
  return { answer, calls: () => calls }
}

export type Upstream = ReturnType<typeof createUpstream>

/**
 * breakwater's cache stage and memory store through `wrap`, keyed by URL: the same code a
 * `createFetch` hit goes through, without building a `Response` per call (10x the time here).
 */
function breakwater(name: string, size: number, upstream: Upstream, lru: boolean): SizedSubject {
  // LRU through a store given as such: the same LruStore under the same cache stage.
  const store = lru
    ? createMemoryKeyv({
        maxEntries: size,
        maxTotalBytes: 256 * 1_048_576,
        maxBodyBytes: 1_048_576,
        namespace: 'bench',
        admission: 'lru',
      })
    : undefined
  const cache = store ? { ttl, maxEntries: size, store } : { ttl, maxEntries: size }
  const get = wrap(upstream.answer, {
    cache,
    retry: false,
    timeout: 0,
    breaker: false,
    key: (url: string) => url,
  })
  const shown = lru ? `store: LruStore({ maxEntries: SIZE, admission: 'lru' })` : 'maxEntries: SIZE'
  return {
    name,
    role: 'subject',
    config:
      `wrap(upstream, { cache: { ttl: ${ttl}, ${shown} }, key: url, retry: false, timeout: 0, ` +
      `breaker: false })${lru ? '' : ", admission 'tinylfu' by default"}`,
    get: async (url) => {
      await get(url)
    },
    hits: () => get.stats().cacheHits,
    close: () => get.close(),
  }
}

function cacheManager(size: number, upstream: Upstream): SizedSubject {
  const cache = createCache({ stores: [new Keyv({ store: new KeyvLru(size) })], ttl })
  return {
    name: 'cache-manager',
    role: 'peer',
    config: `createCache({ stores: [new Keyv({ store: lru-cache { max: SIZE } })], ttl: ${ttl} }), wrap(url, fetch)`,
    get: async (url) => {
      await cache.wrap(url, () => upstream.answer(url))
    },
    close: () => cache.disconnect(),
  }
}

export const sizedSubjects = [
  (size: number, u: Upstream) => breakwater('breakwater', size, u, false),
  (size: number, u: Upstream) => breakwater('breakwater (lru)', size, u, true),
  cacheManager,
]
