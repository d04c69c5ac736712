import { afterEach, describe, expect, it } from 'vitest'
import { isTimeoutError, type Wrapped, wrap } from '../src/index.js'
import { delay } from './helpers/upstream.js'

const open: Wrapped<never[], unknown>[] = []
function track<A extends unknown[], R>(w: Wrapped<A, R>): Wrapped<A, R> {
  open.push(w as unknown as Wrapped<never[], unknown>)
  return w
}
afterEach(async () => {
  await Promise.all(open.splice(0).map((w) => w.close()))
})

const fast = { baseDelay: 5, maxDelay: 20 }

class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly headers: Record<string, string> = {},
  ) {
    super(`status ${status}`)
  }
}

describe('wrap', () => {
  it('caches by the canonical JSON of the arguments', async () => {
    let calls = 0
    const get = track(
      wrap(async (params: { a: number; b: number }) => {
        calls++
        return { sum: params.a + params.b, calls }
      }),
    )
    expect(await get({ a: 1, b: 2 })).toEqual({ sum: 3, calls: 1 })
    expect(await get({ b: 2, a: 1 })).toEqual({ sum: 3, calls: 1 })
    expect(await get({ a: 2, b: 2 })).toEqual({ sum: 4, calls: 2 })
    expect(get.stats()).toMatchObject({ requests: 3, cacheHits: 1, upstreamCalls: 2 })
  })

  it('keys by options.key when given', async () => {
    let calls = 0
    const get = track(wrap(async (_id: string, _trace: string) => ++calls, { key: (id) => id }))
    await get('a', 'trace-1')
    expect(await get('a', 'trace-2')).toBe(1)
  })

  it('hands out copies: one caller mutating its result never changes another', async () => {
    const get = track(wrap(async () => ({ items: [1, 2] })))
    const first = await get()
    first.items.push(3)
    const second = await get()
    expect(second.items).toEqual([1, 2])
    const [a, b] = await Promise.all([get(), get()])
    expect(a).not.toBe(b)
  })

  it('coalesces concurrent identical calls into one', async () => {
    let calls = 0
    const get = track(
      wrap(
        async () => {
          calls++
          await delay(30)
          return calls
        },
        { cache: false },
      ),
    )
    const results = await Promise.all(Array.from({ length: 50 }, () => get()))
    expect(new Set(results)).toEqual(new Set([1]))
    expect(get.stats().coalesced).toBe(49)
  })

  it('retries an error carrying a retryable status, honoring its retry-after header', async () => {
    let calls = 0
    const create = track(
      wrap(
        async () => {
          calls++
          if (calls === 1) throw new ApiError(529, { 'retry-after-ms': '30' })
          if (calls === 2) throw new ApiError(503)
          return 'done'
        },
        { cache: false, retry: { ...fast, statuses: [503, 529] } },
      ),
    )
    expect(await create()).toBe('done')
    expect(create.stats().retries).toBe(2)
  })

  it('reads status and code from the cause', async () => {
    let calls = 0
    const create = track(
      wrap(
        async () => {
          calls++
          if (calls === 1) throw new Error('wrapped', { cause: { statusCode: 502 } })
          if (calls === 2)
            throw new Error('net', {
              cause: Object.assign(new Error('reset'), { code: 'ECONNRESET' }),
            })
          return 'done'
        },
        { cache: false, retry: fast },
      ),
    )
    expect(await create()).toBe('done')
    expect(calls).toBe(3)
  })

  it('does not retry a 400 and rejects with the error and its attempts', async () => {
    const create = track(
      wrap(
        async () => {
          throw new ApiError(400)
        },
        { cache: false, retry: fast },
      ),
    )
    const error = await create().catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ApiError)
    expect((error as { attempts: number }).attempts).toBe(1)
  })

  it('times out an attempt even when the function ignores signals', async () => {
    const create = track(
      wrap(() => delay(200).then(() => 'late'), {
        cache: false,
        timeout: 30,
        retry: { ...fast, maxAttempts: 2 },
      }),
    )
    const error = await create().catch((e: unknown) => e)
    expect(isTimeoutError(error)).toBe(true)
    await delay(250)
  })

  it('rejects bad options at once', () => {
    expect(() => wrap(async () => 1, { key: 'id' as never })).toThrow(
      'key must be a function, got "id"',
    )
    expect(() => wrap('nope' as never)).toThrow('wrap: fn must be a function, got "nope"')
  })
})
