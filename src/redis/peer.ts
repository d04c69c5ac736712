/**
 * The Redis packages are optional peers: an app without Redis installs and loads neither, so
 * they are loaded only when a `redis` option is given, never with `import('breakwater')`.
 */

import { createRequire } from 'node:module'
import type { ResolvedRedis } from './options.js'

/** The packages distributed mode loads when it is on. */
export type RedisPeer = '@redis/client' | '@keyv/redis'

/** What to tell the user when a Redis package is not installed. */
export function missingPeerMessage(name: RedisPeer): string {
  return `redis needs the ${name} package: npm install ${name}`
}

/**
 * Throws when `name` is not installed where breakwater can import it, with what to install;
 * `import.meta.resolve` is synchronous since Node 20.6 and loads nothing.
 */
function assertPeer(name: RedisPeer): void {
  try {
    import.meta.resolve(name)
  } catch (error) {
    throw new Error(missingPeerMessage(name), { cause: error })
  }
}

/**
 * Fails at construction, before any connection opens, when a package the options need is not
 * installed: `@redis/client` to connect from a URL (a client given brings its own), and
 * `@keyv/redis` when the cache is kept in Redis. Later, in the background, a missing package
 * could only show up as Redis failing.
 */
export function assertRedisPeers(redis: ResolvedRedis, sharedCache: boolean): void {
  if ('url' in redis.target) assertPeer('@redis/client')
  if (sharedCache) assertPeer('@keyv/redis')
}

/**
 * The CommonJS package `name`, loaded now, synchronously: for what construction needs, so that
 * nothing it starts waits for a package to load (`@redis/client`, whose client is made there).
 */
export function requirePeer<Module>(name: RedisPeer): Module {
  return createRequire(import.meta.url)(name) as Module
}

const loading = new Map<RedisPeer, Promise<unknown>>()

/** The module `name`, imported once per process; a failed import is not kept, and says why. */
export function loadPeer<Module>(name: RedisPeer): Promise<Module> {
  let module = loading.get(name)
  if (module === undefined) {
    module = import(name).catch((error: unknown) => {
      loading.delete(name)
      throw new Error(missingPeerMessage(name), { cause: error })
    })
    loading.set(name, module)
  }
  return module as Promise<Module>
}

/**
 * True for node-redis' `ErrorReply` (Redis answered with an error) and its subclasses, from any
 * copy of `@redis/client`: a client the user made may come from a copy other than ours, and ours
 * may not be loaded at all. So the class is known by its name, not by `instanceof`.
 */
export function isErrorReply(error: unknown): error is Error {
  if (!(error instanceof Error)) return false
  for (let proto = Object.getPrototypeOf(error); proto !== null && proto !== Error.prototype; ) {
    if ((proto as { constructor?: { name?: string } }).constructor?.name === 'ErrorReply') {
      return true
    }
    proto = Object.getPrototypeOf(proto)
  }
  return false
}
