import { describe, expect, it } from 'vitest'
import type { BreakwaterEvent } from '../../src/core/events.js'
import { wrap } from '../../src/wrap.js'

/** An error shaped as the Anthropic and OpenAI SDKs throw them. */
const apiError = (status: number) =>
  Object.assign(new Error(`${status} error`), { status, headers: {} })

describe('wrap with a pool', () => {
  it('calls the fallback function when the wrapped one answers 503 after its retries', async () => {
    const events: BreakwaterEvent[] = []
    const sent: string[] = []
    const primary = async (prompt: string) => {
      sent.push(`primary ${prompt}`)
      throw apiError(503)
    }
    const create = wrap(primary, {
      cache: false,
      retry: { maxAttempts: 2, baseDelay: 1, maxDelay: 1 },
      onEvent: (e) => events.push(e),
      pool: {
        fallbacks: [
          {
            name: 'other-provider',
            fn: async (prompt: string) => {
              sent.push(`fallback ${prompt}`)
              return `answer to ${prompt}`
            },
          },
        ],
      },
    })
    try {
      expect(await create('hello')).toBe('answer to hello')
      // The primary's retries came first, then the fallback.
      expect(sent).toEqual(['primary hello', 'primary hello', 'fallback hello'])
      // Cooling down, the primary is passed over: the next call goes to the fallback at once.
      expect(await create('again')).toBe('answer to again')
      expect(sent.slice(3)).toEqual(['fallback again'])
      expect(create.stats()).toMatchObject({
        failovers: 1,
        servedBy: { primary: 0, 'other-provider': 2 },
      })
      expect(events.filter((e) => e.type === 'served')).toEqual([
        expect.objectContaining({ via: 'other-provider', failovers: 1 }),
        expect.objectContaining({ via: 'other-provider', failovers: 0 }),
      ])
    } finally {
      await create.close()
    }
  })

  it('spreads calls over targets by weight, each calling its own client', async () => {
    const counts = { a: 0, b: 0 }
    const client = (name: 'a' | 'b') => async () => {
      counts[name]++
      return name
    }
    const create = wrap(client('a'), {
      cache: false,
      coalesce: false,
      pool: {
        targets: [
          { name: 'a', weight: 3 },
          { name: 'b', fn: client('b') },
        ],
      },
    })
    try {
      for (let i = 0; i < 400; i++) await create()
      // 3 to 1: about 300 and 100; the bounds leave a margin far past chance.
      expect(counts.a).toBeGreaterThan(240)
      expect(counts.b).toBeGreaterThan(50)
      expect(create.stats().servedBy).toEqual(counts)
    } finally {
      await create.close()
    }
  })

  it("throws the function's own error at once, without trying another target", async () => {
    let fallbacks = 0
    const create = wrap(
      async () => {
        throw new TypeError('params.messages is undefined')
      },
      {
        retry: false,
        pool: {
          fallbacks: [
            {
              name: 'b',
              fn: async () => {
                fallbacks++
              },
            },
          ],
        },
      },
    )
    try {
      await expect(create()).rejects.toThrow('params.messages is undefined')
      expect(fallbacks).toBe(0)
    } finally {
      await create.close()
    }
  })

  it('tries no other target once the call is past its deadline', async () => {
    let now = 0
    let fallbacks = 0
    const create = wrap(
      async () => {
        // The target took 5 s to fail: the call's 1 s deadline has passed.
        now += 5_000
        throw apiError(503)
      },
      {
        clock: { now: () => now },
        retry: false,
        pool: {
          fallbacks: [
            {
              name: 'b',
              fn: async () => {
                fallbacks++
              },
            },
          ],
        },
      },
    )
    try {
      await expect(create.with({ deadline: 1_000 })()).rejects.toMatchObject({ status: 503 })
      expect(fallbacks).toBe(0)
      expect(create.stats().failovers).toBe(0)
    } finally {
      await create.close()
    }
  })

  it("throws the last target's error when every target failed", async () => {
    const create = wrap(
      async () => {
        throw apiError(503)
      },
      {
        retry: false,
        pool: {
          fallbacks: [
            {
              name: 'b',
              fn: async () => {
                throw apiError(500)
              },
            },
          ],
        },
      },
    )
    try {
      await expect(create()).rejects.toMatchObject({ status: 500 })
      expect(create.stats().failovers).toBe(1)
    } finally {
      await create.close()
    }
  })
})
