import { afterAll, afterEach, beforeAll, beforeEach, expect } from 'vitest'
import type { BreakwaterEvent } from '../../src/core/events.js'
import { RedisServer } from './redis-server.js'
import { delay, type Handler, type UpstreamSuite, useUpstream } from './upstream.js'

/** The upstream's own latency, ms; every call that goes upstream pays it. */
export const upstreamMs = 50
/** `redis.timeout`, ms. */
export const timeout = 100
/**
 * What a call may take past upstream + timeout: scheduling and the local HTTP round trip on a
 * loaded machine. The pauses these tests wait on are far longer, so a call that waited on
 * Redis still fails its bound.
 */
export const slack = 250

/** What `useRedisFaults` gives the tests of a describe block. */
export interface RedisFaults extends Pick<UpstreamSuite, 'make'> {
  readonly upstream: UpstreamSuite['up']
  /** The block's own redis-server; it only exists from `beforeAll` on. */
  readonly server: RedisServer
  /** The events of the current test, for `onEvent` to push to. */
  readonly seen: BreakwaterEvent[]
}

/**
 * Hooks for tests that break Redis under breakwater, registered on the calling describe block:
 * an upstream answering `handler` after `upstreamMs`, and a redis-server of the block's own,
 * which each test starts when it wants it and which is stopped after each test, so that no test
 * inherits a Redis another one stopped, paused or filled (`serverArgs` go to that redis-server).
 * A failing Redis must never surface as an unhandled rejection, so each test also fails on any
 * that happened while it ran.
 */
export function useRedisFaults(handler: Handler, serverArgs: readonly string[] = []): RedisFaults {
  const slow: Handler = async (...args) => {
    await delay(upstreamMs)
    await handler(...args)
  }
  const { up: upstream, make, closeFetches } = useUpstream(slow)
  let server: RedisServer | undefined
  const seen: BreakwaterEvent[] = []
  const rejections: unknown[] = []
  const onRejection = (reason: unknown) => rejections.push(reason)

  beforeAll(async () => {
    server = await RedisServer.create(false, serverArgs)
    process.on('unhandledRejection', onRejection)
  })
  beforeEach(() => {
    seen.length = 0
  })
  // useUpstream closes the instances too, but only after this hook (after-hooks unwind like a
  // stack): closing them first lets this test catch a rejection their closing causes.
  afterEach(async () => {
    await closeFetches()
    await server?.stop()
    expect(rejections).toEqual([])
  })
  afterAll(async () => {
    process.off('unhandledRejection', onRejection)
    await server?.stop()
  })

  return {
    upstream,
    make,
    seen,
    get server() {
      if (server === undefined) throw new Error('the redis-server is made in beforeAll')
      return server
    },
  }
}
