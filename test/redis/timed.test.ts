import { describe, expect, it } from 'vitest'
import { RedisConnection } from '../../src/redis/connection.js'
import { resolveRedis } from '../../src/redis/options.js'
import { isRedisUnavailable } from '../../src/redis/redis-client.js'
import { afterReads, timed } from '../../src/redis/timed.js'
import { rawClient, realContext, redisUrl, testNamespace } from '../helpers/redis.js'

/** Lua that keeps Redis busy for 30 ms. */
const busyFor30ms = `local t = redis.call('TIME')
local start = t[1] * 1000000 + t[2]
repeat t = redis.call('TIME') until t[1] * 1000000 + t[2] - start > 30000
return 1`

const turn = () => new Promise((resolve) => setImmediate(resolve))

/** Holds the event loop, as a busy CPU or a long synchronous task does. */
function stall(ms: number): void {
  const until = performance.now() + ms
  while (performance.now() < until) {
    // Nothing: the point is that nothing else runs.
  }
}

describe('the timeout of a Redis operation', () => {
  it('takes a reply that came in time while the process was stalled past the timeout', async () => {
    const ctx = realContext()
    const resolved = resolveRedis({ url: redisUrl(), timeout: 50 })
    if (!resolved) throw new Error('redis expected')
    const connection = new RedisConnection(resolved, testNamespace('stall'), ctx)
    expect(await connection.command(['PING'])).toBe('PONG')
    const pong = connection.command(['PING'])
    // node-redis writes its commands in a setImmediate, queued once the operation starts.
    for (let i = 0; i < 5; i++) await Promise.resolve()
    // Queued after that write, in the same turn: the reply comes during the stall, and waits
    // to be read while the timer, overdue, fires first.
    await new Promise<void>((resolve) =>
      setImmediate(() => {
        stall(300)
        resolve()
      }),
    )
    expect(await pong).toBe('PONG')
    expect(ctx.counters.redisErrors).toBe(0)
    expect(connection.down).toBe(false)
    await connection.close()
  })

  it('counts its time from the write, not from a stall of the process before it', async () => {
    const ctx = realContext()
    const resolved = resolveRedis({ url: redisUrl(), timeout: 50 })
    if (!resolved) throw new Error('redis expected')
    const connection = new RedisConnection(resolved, testNamespace('stall-before'), ctx)
    expect(await connection.command(['PING'])).toBe('PONG')
    const other = await rawClient()
    // Written just before the PING: Redis is busy with it for 30 ms, more than a turn of the
    // loop, less than the timeout.
    const busy = other.eval(busyFor30ms)
    const pong = connection.command(['PING'])
    for (let i = 0; i < 5; i++) await Promise.resolve()
    // Sent, not written yet: a burst of calls holds the loop past the timeout first.
    stall(300)
    expect(await pong).toBe('PONG')
    expect(ctx.counters.redisErrors).toBe(0)
    await busy
    other.destroy()
    await connection.close()
  })

  it('still times out an operation with no answer', async () => {
    const never = new Promise<string>(() => {})
    const error = await timed(20, Promise.resolve(), () => never).catch((e: unknown) => e)
    expect(isRedisUnavailable(error)).toBe(true)
    expect((error as Error).message).toBe('Redis did not answer within 20 ms')
  })

  it('never sends an operation still waiting for the connection when its time is up', async () => {
    let sent = false
    let ready = () => {}
    const connected = new Promise<void>((resolve) => {
      ready = resolve
    })
    const op = timed(10, connected, async () => {
      sent = true
      return 'sent'
    })
    await expect(op).rejects.toThrow('Redis did not answer within 10 ms')
    ready()
    await turn()
    expect(sent).toBe(false)
  })

  it('calls nothing once cancelled in the turn its timer fired', async () => {
    let called = false
    const cancel = afterReads(0, () => {
      called = true
    })
    // Due in the same turn, after the first: it cancels what that one has just scheduled.
    await new Promise<void>((resolve) =>
      setTimeout(() => {
        cancel()
        resolve()
      }, 0),
    )
    await turn()
    expect(called).toBe(false)
  })
})
