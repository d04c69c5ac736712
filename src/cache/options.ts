/** The `cache` option: its documented type, defaults, resolved form and validation. */
import type Keyv from 'keyv'
import type { CallDetails } from '../core/call.js'
import type { Outcome } from '../core/outcome.js'
import {
  boolean,
  func,
  integer,
  isNonEmptyString,
  list,
  memoryCount,
  object,
  oneOf,
  show,
  timerMs,
} from '../core/validate.js'
import { type Admission, admissions } from './admission.js'

export interface CacheOptions {
  /**
   * ms a stored outcome is fresh, for calls outside HTTP semantics (declared POSTs, `wrap`,
   * `respectCacheControl: false`). Under HTTP caching (GET and HEAD with `respectCacheControl`)
   * it is only the heuristic lifetime of a 200, 203 or 204 that carries no freshness of its own
   * (RFC 9111 §4.2.2). @default 60_000
   */
  ttl?: number
  /** Most entries kept by the in-memory store. @default 10_000 */
  maxEntries?: number
  /** Largest body stored, in bytes; larger bodies are passed through whole, uncached. @default 1_048_576 */
  maxBodyBytes?: number
  /** Most bytes held by the in-memory store. @default 256 MiB */
  maxTotalBytes?: number
  /**
   * What the in-memory store keeps once it holds `maxEntries`: `'tinylfu'` lets a new entry in
   * only if its key was asked for more often lately than the least recently used entry's, so
   * one-off keys and scans do not flush the popular ones; "lately" is a short or a ten times
   * longer memory, whichever serves more of a sample of the keys. `'lru'` always lets it in. A
   * hit costs about the same either way (0.1 to 0.3 µs more under `'tinylfu'`, which counts it).
   * `breakwater replay` shows both on your own trace. @default 'tinylfu'
   */
  admission?: Admission
  /** ms past freshness during which a stale entry is served while one refresh runs; an answer's own `stale-while-revalidate` wins. @default 0 */
  staleWhileRevalidate?: number
  /** ms past freshness during which a stale entry is served when the upstream fails; an answer's own `stale-if-error` wins. @default 0 */
  staleIfError?: number
  /** Cacheable methods. POST only by opt-in (deterministic LLM calls). @default ['GET', 'HEAD'] */
  methods?: readonly string[]
  /**
   * GET and HEAD follow RFC 9111 (Vary, Age, Expires, request directives, revalidation,
   * invalidation after unsafe methods); other cacheable calls honor `no-store`, `no-cache`,
   * `private` (shared stores), `max-age`, `s-maxage`, `must-revalidate`. `false`: `ttl` alone
   * decides. @default true
   */
  respectCacheControl?: boolean
  /** Request headers that change the answer and so enter the key (credentials always do, hashed). */
  keyHeaders?: readonly string[]
  /** Any Keyv instance. @default lru-cache in memory; Redis with `redis` */
  store?: Keyv
  /**
   * Asked once per call whose method is in `methods`: may this call be served from the cache,
   * stored, and coalesced? For POST APIs where only some calls are repeatable (an LLM call at
   * temperature 0). @default every call of those methods
   */
  cacheable?: (call: CallDetails) => boolean
  /**
   * Asked before storing a complete 2xx that passed every other rule: is it really an answer?
   * (an API that reports errors in a 200 body). @default every such outcome
   */
  storable?: (outcome: Outcome, call: CallDetails) => boolean
  /**
   * Store an event stream (`text/event-stream`) once the caller has read it to its end, and
   * replay it as the same stream of events. Off, event streams pass through uncached. @default false
   */
  streams?: boolean
  /** The store is shared between users (a `private` response is then not stored). @default false in memory, true for a given store or Redis */
  shared?: boolean
}

export interface ResolvedCache {
  readonly ttl: number
  readonly maxEntries: number
  readonly maxBodyBytes: number
  readonly maxTotalBytes: number
  // Optional for the same reason as `cacheable` below; absent is `cacheDefaults.admission`.
  readonly admission?: Admission
  readonly staleWhileRevalidate: number
  readonly staleIfError: number
  readonly methods: ReadonlySet<string>
  readonly respectCacheControl: boolean
  readonly keyHeaders: readonly string[]
  readonly store: Keyv | undefined
  readonly shared: boolean
  // Optional so that caches built by hand (the replay simulator, tests) need not name them.
  readonly cacheable?: ((call: CallDetails) => boolean) | undefined
  readonly storable?: ((outcome: Outcome, call: CallDetails) => boolean) | undefined
  readonly streams?: boolean
}

/** Request headers that change the answer of the APIs breakwater is most used with. */
export const defaultKeyHeaders: readonly string[] = [
  'accept',
  'accept-language',
  'content-type',
  'anthropic-version',
  'anthropic-beta',
  'openai-organization',
  'openai-project',
  'openai-beta',
]

/** The defaults of `cache`, also what the replay simulator assumes. */
export const cacheDefaults = {
  ttl: 60_000,
  maxEntries: 10_000,
  maxBodyBytes: 1_048_576,
  maxTotalBytes: 256 * 1_048_576,
  admission: 'tinylfu' as Admission,
  staleWhileRevalidate: 0,
  staleIfError: 0,
  methods: ['GET', 'HEAD'],
  respectCacheControl: true,
} as const

/** Validates `cache`; a Redis or a given store makes it shared unless told otherwise. */
export function resolveCache(value: unknown, sharedStore: boolean): ResolvedCache | false {
  if (value === false) return false
  const o = object<CacheOptions>('cache', value ?? {}, [
    'ttl',
    'maxEntries',
    'maxBodyBytes',
    'maxTotalBytes',
    'admission',
    'staleWhileRevalidate',
    'staleIfError',
    'methods',
    'respectCacheControl',
    'keyHeaders',
    'store',
    'shared',
    'cacheable',
    'storable',
    'streams',
  ])
  const d = cacheDefaults
  if (
    o.store !== undefined &&
    (typeof o.store !== 'object' || o.store === null || typeof (o.store as Keyv).get !== 'function')
  ) {
    throw new TypeError(`cache.store must be a Keyv instance, got ${show(o.store)}`)
  }
  return {
    ttl: timerMs('cache.ttl', o.ttl, d.ttl),
    maxEntries: memoryCount('cache.maxEntries', o.maxEntries, d.maxEntries),
    maxBodyBytes: integer('cache.maxBodyBytes', o.maxBodyBytes, d.maxBodyBytes, 0),
    maxTotalBytes: integer('cache.maxTotalBytes', o.maxTotalBytes, d.maxTotalBytes, 1),
    admission: oneOf('cache.admission', o.admission, d.admission, admissions),
    staleWhileRevalidate: timerMs(
      'cache.staleWhileRevalidate',
      o.staleWhileRevalidate,
      d.staleWhileRevalidate,
    ),
    staleIfError: timerMs('cache.staleIfError', o.staleIfError, d.staleIfError),
    methods: new Set(
      list<string>('cache.methods', o.methods, d.methods, isNonEmptyString, 'method names').map(
        (m) => m.toUpperCase(),
      ),
    ),
    respectCacheControl: boolean(
      'cache.respectCacheControl',
      o.respectCacheControl,
      d.respectCacheControl,
    ),
    keyHeaders: list<string>(
      'cache.keyHeaders',
      o.keyHeaders,
      defaultKeyHeaders,
      isNonEmptyString,
      'header names',
    ).map((h) => h.toLowerCase()),
    store: o.store,
    shared: boolean('cache.shared', o.shared, sharedStore || o.store !== undefined),
    cacheable: func('cache.cacheable', o.cacheable),
    storable: func('cache.storable', o.storable),
    streams: boolean('cache.streams', o.streams, false),
  }
}
