import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { BreakwaterEvent } from '../../src/core/events.js'
import { createFetch } from '../../src/fetch.js'
import { redisUrl, testNamespace } from '../helpers/redis.js'
import { reply, startUpstream, type Upstream } from '../helpers/upstream.js'

describe('a pool on shared buckets', () => {
  let up: Upstream
  beforeAll(async () => {
    up = await startUpstream((_req, res) => reply(res, 200, 'ok'))
  })
  afterAll(() => up.close())

  it('sends a call to the key another instance has not just spent, read from Redis', async () => {
    const namespace = testNamespace('pool-shared')
    const made = () => {
      const events: BreakwaterEvent[] = []
      const fetch = createFetch({
        redis: redisUrl(),
        namespace,
        cache: false,
        coalesce: false,
        retry: false,
        // One call a minute per key: a key just used stays spent for the whole test.
        rateLimit: { name: 'requests', perMinute: 1, capacity: 1, mode: 'reject' },
        pool: {
          targets: ['one', 'two'].map((name) => ({ name, headers: { 'x-api-key': name } })),
        },
        onEvent: (e) => events.push(e),
      })
      return { fetch, events }
    }
    const [first, second] = [made(), made()]
    try {
      for (const { fetch } of [first, second]) {
        const res = await fetch(`${up.url}/v1/x`)
        expect(res.status).toBe(200)
        await res.arrayBuffer()
      }
      // The second instance never used a key itself: it read the first's spending on Redis.
      const keys = up.requests.map((r) => r.headers['x-api-key'])
      expect(new Set(keys)).toEqual(new Set(['one', 'two']))
      expect(second.fetch.stats()).toMatchObject({ failovers: 0, rateLimitRejects: 0 })
      expect(second.events.some((e) => e.type === 'rateLimited')).toBe(false)
    } finally {
      await Promise.all([first.fetch.close(), second.fetch.close()])
    }
  })
})
