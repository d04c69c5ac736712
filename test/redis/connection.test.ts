import { type AddressInfo, createServer, connect as netConnect } from 'node:net'
import { createClient, ErrorReply } from '@redis/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RedisConnection } from '../../src/redis/connection.js'
import { resolveRedis } from '../../src/redis/options.js'
import { isRedisUnavailable } from '../../src/redis/redis-client.js'
import { luaNowMs, RedisScript, redisNow, redisTimeMs } from '../../src/redis/scripts.js'
import { asLike, rawClient, realContext, redisUrl, testNamespace } from '../helpers/redis.js'
import { freePort, RedisServer } from '../helpers/redis-server.js'

const connect = (redis: unknown, ctx = realContext(), namespace = testNamespace('connection')) => {
  const resolved = resolveRedis(redis)
  if (!resolved) throw new Error('redis option expected')
  return new RedisConnection(resolved, namespace, ctx)
}

describe('RedisConnection', () => {
  it('sends commands, keyed under its namespace, once the first connect is done', async () => {
    const connection = connect(redisUrl(), realContext(), 'bwtest-ns')
    const key = connection.key('probe', String(process.pid))
    expect(key).toBe(`bwtest-ns:probe:${process.pid}`)
    expect(await connection.command(['SET', key, 'v', 'PX', '5000'], key)).toBe('OK')
    expect(await connection.command(['GET', key], key)).toBe('v')
    await connection.close()
  })

  it('passes a reply error on without marking Redis down', async () => {
    const ctx = realContext()
    const connection = connect(redisUrl(), ctx)
    const key = connection.key('list')
    await connection.command(['RPUSH', key, 'x'], key)
    await expect(connection.command(['GET', key], key)).rejects.toBeInstanceOf(ErrorReply)
    expect(connection.down).toBe(false)
    expect(ctx.counters.redisErrors).toBe(0)
    await connection.command(['DEL', key], key)
    await connection.close()
  })

  it('reads Redis’ own clock, from JavaScript and from Lua', async () => {
    const connection = connect(redisUrl())
    const now = new RedisScript(`${luaNowMs}return now_ms`)
    const [fromTime, fromLua] = [await redisNow(connection), await now.run<number>(connection, [])]
    expect(Math.abs(fromTime - Date.now())).toBeLessThan(1_000)
    expect(fromLua - fromTime).toBeGreaterThanOrEqual(0)
    expect(fromLua - fromTime).toBeLessThan(1_000)
    expect(redisTimeMs(['1700000000', '123999'])).toBe(1_700_000_000_123)
    expect(() => redisTimeMs('OK')).toThrow('TIME reply must be [seconds, microseconds]')
    await connection.close()
  })

  it('refuses operations once closed, without marking Redis down', async () => {
    const ctx = realContext()
    const connection = connect(redisUrl(), ctx)
    await connection.close()
    await expect(connection.command(['PING'])).rejects.toThrow('connection is closed')
    expect(connection.down).toBe(false)
    expect(ctx.seen).toEqual([])
  })

  it('leaves open a client it was given, and connects one that was not open', async () => {
    const given = createClient({ url: redisUrl() })
    given.on('error', () => {})
    const connection = connect(given)
    expect(await connection.command(['PING'])).toBe('PONG')
    await connection.close()
    expect(given.isReady).toBe(true)
    expect(await given.ping()).toBe('PONG')
    given.destroy()
  })

  it('fails at once, not at the timeout, while a given client cannot connect', async () => {
    const given = createClient({
      url: `redis://127.0.0.1:${await freePort()}`,
      socket: { reconnectStrategy: 20 },
    })
    given.on('error', () => {})
    const connection = connect({ client: asLike(given), timeout: 500 })
    const started = performance.now()
    await expect(connection.command(['PING'])).rejects.toThrow('not connected')
    // Half the timeout: what tells "at once" from "at the timeout" on a busy machine.
    expect(performance.now() - started).toBeLessThan(250)
    await connection.close()
    given.destroy()
  })

  it('never sends later an operation that timed out waiting for the first connect', async () => {
    // A proxy that holds the first 300 ms of traffic: the client connects, then waits that long
    // for the replies of its handshake before it is ready.
    const redisPort = Number(new URL(redisUrl()).port)
    const proxy = createServer((socket) => {
      const upstream = netConnect(redisPort, '127.0.0.1')
      socket.pause()
      setTimeout(() => {
        socket.pipe(upstream).pipe(socket)
        socket.resume()
      }, 300)
      // The client may leave before the pipes are laid (its handshake is cut at the timeout).
      socket.on('close', () => upstream.destroy())
      socket.on('error', () => upstream.destroy())
      upstream.on('error', () => socket.destroy())
    })
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve))
    const { port } = proxy.address() as AddressInfo
    const connection = connect({ url: `redis://127.0.0.1:${port}`, timeout: 100 })
    const key = `bwtest:late:${process.pid}:${Date.now()}`
    await expect(connection.command(['SET', key, 'late'], key)).rejects.toThrow('within 100 ms')
    await new Promise((resolve) => setTimeout(resolve, 400))
    const check = await rawClient()
    expect(await check.exists(key)).toBe(0)
    check.destroy()
    await connection.close()
    await new Promise((resolve) => proxy.close(resolve))
  })

  it('closes within its timeout, socket and all, while replies are due that never come', async () => {
    // A proxy to Redis that can go mute: the client is ready, then hears nothing more.
    const redisPort = Number(new URL(redisUrl()).port)
    let mute = false
    let clientClosed = false
    const proxy = createServer((socket) => {
      const upstream = netConnect(redisPort, '127.0.0.1')
      socket.pipe(upstream)
      upstream.on('data', (chunk: Buffer) => {
        if (!mute) socket.write(chunk)
      })
      socket.on('close', () => {
        clientClosed = true
        upstream.destroy()
      })
      socket.on('error', () => upstream.destroy())
      upstream.on('error', () => socket.destroy())
    })
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve))
    const { port } = proxy.address() as AddressInfo
    const connection = connect({ url: `redis://127.0.0.1:${port}`, timeout: 100 })
    expect(await connection.command(['PING'])).toBe('PONG')
    mute = true
    await expect(connection.command(['PING'])).rejects.toThrow('within 100 ms')
    const started = performance.now()
    await connection.close()
    expect(performance.now() - started).toBeLessThan(1_000)
    for (let i = 0; i < 100 && !clientClosed; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
    expect(clientClosed).toBe(true)
    await new Promise((resolve) => proxy.close(resolve))
  })

  it('takes a connected client as it is', async () => {
    const given = await rawClient()
    const connection = connect({ client: asLike(given), timeout: 100 })
    expect(await connection.command(['PING'])).toBe('PONG')
    await connection.close()
    expect(given.isReady).toBe(true)
    given.destroy()
  })
})

describe('RedisConnection against a Redis that misbehaves', () => {
  let server: RedisServer
  beforeAll(async () => {
    server = await RedisServer.create()
  })
  afterAll(() => server.stop())

  it('runs a script by its SHA and loads it again after SCRIPT FLUSH', async () => {
    const connection = connect(server.url)
    const script = new RedisScript("return redis.call('INCRBY', KEYS[1], ARGV[1])")
    const key = connection.key('counter')
    expect(await script.run(connection, [key], ['2'])).toBe(2)
    await server.cli('SCRIPT', 'FLUSH')
    expect(await server.cli('SCRIPT', 'EXISTS', script.sha)).toBe('0')
    expect(await script.run(connection, [key], ['3'])).toBe(5)
    expect(await server.cli('SCRIPT', 'EXISTS', script.sha)).toBe('1')
    await connection.close()
  })

  it('gives up on a paused Redis at the timeout, then fails at once until a probe succeeds', async () => {
    const ctx = realContext()
    const connection = connect({ url: server.url, timeout: 100 }, ctx)
    expect(await connection.command(['PING'])).toBe('PONG')
    await server.cli('CLIENT', 'PAUSE', '600', 'ALL')

    let started = performance.now()
    const slow = await connection.command(['PING']).catch((error: unknown) => error)
    const slowMs = performance.now() - started
    expect(isRedisUnavailable(slow)).toBe(true)
    expect(slowMs).toBeGreaterThanOrEqual(95)
    // Well before the pause ends at 600 ms.
    expect(slowMs).toBeLessThan(450)
    expect(connection.down).toBe(true)

    started = performance.now()
    await expect(connection.command(['PING'])).rejects.toThrow('Redis is marked down')
    // Not at the timeout: at once.
    expect(performance.now() - started).toBeLessThan(50)
    expect(ctx.seen.map((e) => e.type)).toEqual(['redisDown'])

    // The pause ends at 600 ms; the breaker lets one probe through 1 s after it opened.
    await new Promise((resolve) => setTimeout(resolve, 1_050))
    expect(await connection.command(['PING'])).toBe('PONG')
    expect(connection.down).toBe(false)
    expect(ctx.seen.map((e) => e.type)).toEqual(['redisDown', 'redisUp'])
    expect(ctx.counters.redisErrors).toBe(2)
    await connection.close()
  })

  it('reconnects by itself after Redis restarts', async () => {
    const ctx = realContext()
    const connection = connect({ url: server.url, timeout: 100 }, ctx)
    expect(await connection.command(['PING'])).toBe('PONG')
    await server.stop()
    await expect(connection.command(['PING'])).rejects.toThrow()
    await server.start()
    let reply: unknown
    const started = performance.now()
    while (reply !== 'PONG' && performance.now() - started < 5_000) {
      await new Promise((resolve) => setTimeout(resolve, 100))
      reply = await connection.command(['PING']).catch(() => undefined)
    }
    expect(reply).toBe('PONG')
    await connection.close()
  })

  it('sends nothing later through a user client that queues commands while offline', async () => {
    const given = createClient({ url: server.url })
    given.on('error', () => {})
    await given.connect()
    const connection = connect({ client: asLike(given), timeout: 100 })
    await server.stop()
    while (given.isReady) await new Promise((resolve) => setTimeout(resolve, 5))
    const key = `bwtest:queued:${process.pid}`
    const started = performance.now()
    await expect(connection.command(['SET', key, 'late'], key)).rejects.toThrow('not connected')
    expect(performance.now() - started).toBeLessThan(50)
    await server.start()
    while (!given.isReady) await new Promise((resolve) => setTimeout(resolve, 20))
    expect(await given.get(key)).toBeNull()
    await connection.close()
    given.destroy()
  })

  it('fails every operation within the timeout while nothing listens, and closes at once', async () => {
    await server.stop()
    const connection = connect({ url: server.url, timeout: 100 })
    const started = performance.now()
    const results = await Promise.allSettled([0, 1, 2].map(() => connection.command(['PING'])))
    expect(results.every((r) => r.status === 'rejected' && isRedisUnavailable(r.reason))).toBe(true)
    expect(performance.now() - started).toBeLessThan(150)
    const closing = performance.now()
    await connection.close()
    expect(performance.now() - closing).toBeLessThan(50)
    await server.start()
  })
})
