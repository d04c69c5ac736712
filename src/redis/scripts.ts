import { createHash } from 'node:crypto'
import type { RedisConnection } from './connection.js'
import { isErrorReply } from './peer.js'

/**
 * Lua that sets `now_ms` to Redis' own clock in ms (TIME: seconds * 1000 + floor(µs / 1000)).
 * Scripts that decide by time begin with it, so that processes on skewed clocks share one
 * timeline. Since Redis 5 a script may read TIME and still write (effects are replicated).
 */
export const luaNowMs = `local bw_time = redis.call('TIME')
local now_ms = tonumber(bw_time[1]) * 1000 + math.floor(tonumber(bw_time[2]) / 1000)
`

/** Redis' clock in ms from a TIME reply (`[seconds, microseconds]`, as strings). */
export function redisTimeMs(reply: unknown): number {
  if (!Array.isArray(reply) || reply.length !== 2) {
    throw new TypeError(`TIME reply must be [seconds, microseconds], got ${String(reply)}`)
  }
  const [seconds, micros] = reply.map(Number) as [number, number]
  if (!Number.isInteger(seconds) || !Number.isInteger(micros)) {
    throw new TypeError(`TIME reply must hold integers, got ${String(reply)}`)
  }
  return seconds * 1000 + Math.floor(micros / 1000)
}

/** Redis' clock in ms, read with TIME through `connection.run`. */
export async function redisNow(connection: RedisConnection): Promise<number> {
  return redisTimeMs(await connection.command(['TIME']))
}

const isNoScript = (error: unknown) => isErrorReply(error) && error.message.startsWith('NOSCRIPT')

/**
 * A Lua script kept as a string (tsc copies no `.lua` files), sent by its SHA1 with EVALSHA.
 * A Redis that does not know it (restarted, flushed, another node) answers NOSCRIPT, and the
 * script is then sent whole with EVAL, which also loads it: the next EVALSHA finds it. Works
 * with any client the connection holds, including one the user made without `scripts`, and on
 * a cluster, where it is routed by its first key (all its keys must share one hash tag).
 *
 * @example
 * const incrBy = new RedisScript("return redis.call('INCRBY', KEYS[1], ARGV[1])")
 * const total = await incrBy.run<number>(connection, [key], ['5'])
 */
export class RedisScript {
  readonly source: string
  readonly sha: string

  constructor(source: string) {
    this.source = source
    this.sha = createHash('sha1').update(source).digest('hex')
  }

  /**
   * One call of the script through `connection.run`: one timeout and one breaker verdict,
   * reload included. Arguments are strings, as Redis receives them; so is most of the reply.
   */
  run<T = unknown>(
    connection: RedisConnection,
    keys: readonly string[],
    args: readonly string[] = [],
  ): Promise<T> {
    const tail = [String(keys.length), ...keys, ...args]
    return connection.run(async (send) => {
      try {
        return await send<T>(['EVALSHA', this.sha, ...tail], keys[0])
      } catch (error) {
        if (!isNoScript(error)) throw error
        return send<T>(['EVAL', this.source, ...tail], keys[0])
      }
    })
  }
}
