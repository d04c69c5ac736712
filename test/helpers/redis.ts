import { createClient } from '@redis/client'
import { inject } from 'vitest'
import { systemClock, systemTimers } from '../../src/core/clock.js'
import type { StageContext } from '../../src/core/context.js'
import { type BreakwaterEvent, Events } from '../../src/core/events.js'
import { Counters } from '../../src/core/stats.js'
import type { RedisClientLike } from '../../src/redis/redis-client.js'

/** The run's private Redis, started by the global setup (or REDIS_URL). */
export const redisUrl = (): string => inject('redisUrl')

let made = 0

/** A namespace no other suite, file or run uses: each suite keeps to its own keys. */
export function testNamespace(suite: string): string {
  made++
  return `bwtest:${suite}:${process.pid}:${Date.now().toString(36)}:${made}`
}

/** A connected node-redis client of the test's own, to look at or tamper with what is stored. */
export async function rawClient(url = redisUrl()) {
  const client = createClient({ url })
  client.on('error', () => {})
  await client.connect()
  return client
}

/** The same client as breakwater sees it. */
export const asLike = (client: Awaited<ReturnType<typeof rawClient>>) =>
  client as unknown as RedisClientLike

/** A stage context on the real clock that records every event. */
export function realContext(): StageContext & { seen: BreakwaterEvent[] } {
  const seen: BreakwaterEvent[] = []
  return {
    counters: new Counters(),
    events: new Events((event) => seen.push(event)),
    clock: systemClock,
    timers: systemTimers,
    seen,
  }
}
