import { integer, memoryCount, number, object, oneOf, show, timerMs } from '../core/validate.js'
import type { RedisLike } from './redis-client.js'

/** The in-process cache in front of the shared one. */
export interface RedisL1Options {
  /** Most entries kept in this process. @default 1_000 */
  maxEntries?: number
  /** ms an entry is served from this process before Redis is asked again. @default 1_000 */
  ttl?: number
}

/** The distributed mode in detail; `redis: url` is short for `redis: { url }`. */
export interface RedisOptions {
  /** `redis://` or `rediss://` URL; breakwater opens this connection, and closes it on `close()`. */
  url?: string
  /** A node-redis client or cluster, connected or not; breakwater connects it when it is not open yet, and never closes it. */
  client?: RedisLike
  /** ms each Redis operation may take; past it, the operation counts as failed. @default 250 */
  timeout?: number
  /** Processes sharing the rate-limit budgets, for each one's local share when Redis is down. @default 1 */
  processes?: number
  /** Share of a bucket's budget one process spends on its own while Redis is down. @default 1 / processes */
  localShare?: number
  /** While Redis is down, buckets spend their local share (`'fallback'`) or refuse calls (`'reject'`). @default 'fallback' */
  onError?: 'fallback' | 'reject'
  /** A small in-process cache in front of the shared one (short TTL), or `false`. @default false */
  l1?: RedisL1Options | false
}

/** The `redis` option: a URL, a node-redis client, or the options in detail. */
export type RedisOption = string | RedisLike | RedisOptions

export interface ResolvedRedis {
  /** A URL to open a connection to, or the user's client. */
  readonly target: { readonly url: string } | { readonly client: RedisLike }
  readonly timeout: number
  readonly processes: number
  readonly localShare: number
  readonly onError: 'fallback' | 'reject'
  readonly l1: { readonly maxEntries: number; readonly ttl: number } | false
}

export const redisDefaults = {
  timeout: 250,
  processes: 1,
  onError: 'fallback',
  l1: { maxEntries: 1_000, ttl: 1_000 },
} as const

/** Most processes a budget may be split between: a share below a millionth spends nothing. */
const maxProcesses = 1_000_000

const optionKeys = ['url', 'client', 'timeout', 'processes', 'localShare', 'onError', 'l1']

const isClient = (value: unknown): value is RedisLike =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as RedisLike).connect === 'function' &&
  typeof (value as RedisLike).sendCommand === 'function'

/** A URL as messages may show it: the password never leaves the process in an error. */
function redacted(url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.password !== '') parsed.password = '***'
    return JSON.stringify(parsed.href)
  } catch {
    return show(url)
  }
}

function resolveUrl(value: unknown): string {
  if (typeof value !== 'string')
    throw new TypeError(`redis.url must be a string, got ${show(value)}`)
  let protocol = ''
  try {
    protocol = new URL(value).protocol
  } catch {}
  if (protocol !== 'redis:' && protocol !== 'rediss:') {
    throw new TypeError(`redis.url must be a redis:// or rediss:// URL, got ${redacted(value)}`)
  }
  return value
}

/** Validates the `redis` option once, at construction; `undefined` and `false` leave Redis off. */
export function resolveRedis(value: unknown): ResolvedRedis | false {
  if (value === undefined || value === false) return false
  if (typeof value === 'string') return resolveRedis({ url: value })
  if (isClient(value)) return resolveRedis({ client: value })
  const o = object<RedisOptions>('redis', value, optionKeys)
  if ((o.url === undefined) === (o.client === undefined)) {
    throw new TypeError('redis must name exactly one of url and client, got both or neither')
  }
  let target: ResolvedRedis['target']
  if (o.client === undefined) target = { url: resolveUrl(o.url) }
  else if (isClient(o.client)) target = { client: o.client }
  else throw new TypeError(`redis.client must be a node-redis client, got ${show(o.client)}`)
  const timeout = timerMs('redis.timeout', o.timeout, redisDefaults.timeout, 1)
  const processes = integer(
    'redis.processes',
    o.processes,
    redisDefaults.processes,
    1,
    maxProcesses,
  )
  const localShare = number('redis.localShare', o.localShare, 1 / processes)
  if (localShare <= 0 || localShare > 1) {
    throw new RangeError(`redis.localShare must be in (0, 1], got ${show(localShare)}`)
  }
  let l1: ResolvedRedis['l1'] = false
  if (o.l1 !== undefined && o.l1 !== false) {
    const given = object<RedisL1Options>('redis.l1', o.l1, ['maxEntries', 'ttl'])
    const d = redisDefaults.l1
    l1 = {
      maxEntries: memoryCount('redis.l1.maxEntries', given.maxEntries, d.maxEntries),
      ttl: timerMs('redis.l1.ttl', given.ttl, d.ttl, 1),
    }
  }
  return {
    target,
    timeout,
    processes,
    localShare,
    onError: oneOf('redis.onError', o.onError, redisDefaults.onError, ['fallback', 'reject']),
    l1,
  }
}
