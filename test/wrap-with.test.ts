import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { isRateLimitError, RateLimitError, type Wrapped, wrap } from '../src/index.js'
import { createManualTime, type ManualTime } from './helpers/manual-time.js'

class ApiError extends Error {
  constructor(readonly status: number) {
    super(`status ${status}`)
  }
}

// Every wait here runs on manual time: a backoff or a budget lasts until the test moves it.
let time: ManualTime
const open: { close(): Promise<void> }[] = []
beforeEach(() => {
  time = createManualTime()
})
afterEach(async () => {
  await Promise.all(open.splice(0).map((w) => w.close()))
})
function track<A extends unknown[], R>(w: Wrapped<A, R>): Wrapped<A, R> {
  open.push(w)
  return w
}
const settled = async (promise: Promise<unknown>) => {
  let state: { value?: unknown; error?: unknown } | undefined
  promise.then(
    (value) => {
      state = { value }
    },
    (error: unknown) => {
      state = { error }
    },
  )
  await time.advance(0)
  return state
}

describe('wrapped.with', () => {
  it('ends a call waiting out a backoff with the abort reason, and sends nothing more', async () => {
    let calls = 0
    const get = track(
      wrap(
        async (_n: number) => {
          calls++
          throw new ApiError(503)
        },
        { clock: time, timers: time, retry: { baseDelay: 10_000, maxDelay: 10_000 } },
      ),
    )
    const controller = new AbortController()
    const call = get.with({ signal: controller.signal })(1)
    expect(await settled(call)).toBeUndefined()
    expect(calls).toBe(1)
    const reason = new Error('user went away')
    controller.abort(reason)
    expect(await settled(call)).toEqual({ error: reason })
    await time.advance(60_000)
    expect(calls).toBe(1)
    expect(time.pending).toBe(0)
  })

  it('ends a call waiting in a rate-limit queue with the abort reason', async () => {
    let calls = 0
    const get = track(
      wrap(async (n: number) => ++calls + n, {
        clock: time,
        timers: time,
        cache: false,
        rateLimit: { name: 'requests', perMinute: 1 },
      }),
    )
    expect(await get(1)).toBe(2)
    const controller = new AbortController()
    const call = get.with({ signal: controller.signal })(2)
    expect(await settled(call)).toBeUndefined()
    controller.abort()
    const outcome = await settled(call)
    expect(outcome?.error).toMatchObject({ name: 'AbortError' })
    await time.advance(120_000)
    expect(calls).toBe(1)
  })

  it('abandons a running function at once, and refuses a signal already aborted', async () => {
    let calls = 0
    let finish: (value: string) => void = () => {}
    const get = track(
      wrap(
        (_n: number) => {
          calls++
          return new Promise<string>((resolve) => {
            finish = resolve
          })
        },
        { clock: time, timers: time, timeout: 0 },
      ),
    )
    const controller = new AbortController()
    const call = get.with({ signal: controller.signal })(1)
    expect(await settled(call)).toBeUndefined()
    controller.abort('stop')
    expect(await settled(call)).toEqual({ error: 'stop' })
    finish('late')
    await expect(get.with({ signal: AbortSignal.abort('never') })(2)).rejects.toBe('never')
    expect(calls).toBe(1)
  })

  it('gives one call a ttl of its own', async () => {
    let calls = 0
    const get = track(
      wrap(async (n: number) => ({ n, calls: ++calls }), {
        clock: time,
        timers: time,
        cache: { ttl: 1_000 },
      }),
    )
    const long = get.with({ ttl: 10_000 })
    expect(await long(1)).toEqual({ n: 1, calls: 1 })
    expect(await get(2)).toEqual({ n: 2, calls: 2 })
    await time.advance(5_000)
    expect(await long(1)).toEqual({ n: 1, calls: 1 })
    expect(await get(2)).toEqual({ n: 2, calls: 3 })
  })

  it('bypasses the cache for one call, neither reading nor writing it', async () => {
    let calls = 0
    const get = track(wrap(async (n: number) => ({ n, calls: ++calls }), { clock: time }))
    expect(await get(1)).toEqual({ n: 1, calls: 1 })
    expect(await get.with({ cache: false })(1)).toEqual({ n: 1, calls: 2 })
    expect(await get(1)).toEqual({ n: 1, calls: 1 })
    expect(get.stats()).toMatchObject({ cacheHits: 1, upstreamCalls: 2 })
  })

  it('takes a cost by bucket name', async () => {
    const get = track(
      wrap(async (n: number) => n, {
        clock: time,
        timers: time,
        cache: false,
        rateLimit: [
          { name: 'requests', perMinute: 100, capacity: 100 },
          { name: 'tokens', perMinute: 1_000, capacity: 1_000, mode: 'reject' },
        ],
      }),
    )
    expect(await get.with({ cost: { tokens: 1_000 } })(1)).toBe(1)
    const error = await get(2).catch((e: unknown) => e)
    expect(isRateLimitError(error)).toBe(true)
    expect(error).toBeInstanceOf(RateLimitError)
    expect((error as Error).message).toContain('"tokens"')
  })

  it('uses its own key and idempotency key over the wrap’s', async () => {
    let calls = 0
    const get = track(
      wrap(async (n: number) => ({ n, calls: ++calls }), {
        clock: time,
        key: (n) => String(n),
      }),
    )
    expect(await get.with({ key: 'same' })(1)).toEqual({ n: 1, calls: 1 })
    expect(await get.with({ key: 'same' })(2)).toEqual({ n: 1, calls: 1 })
    expect(await get(2)).toEqual({ n: 2, calls: 2 })
  })

  it.each([
    [{ ttl: -1 }, 'with.ttl must be a finite number ≥ 0, got -1'],
    [
      { cost: { nope: 1 } },
      'with.cost.nope names no rate-limit bucket of this instance; known: none',
    ],
    [{ signal: 'x' }, 'with.signal must be an AbortSignal, got "x"'],
    [{ deadline: 0 }, 'with.deadline must be a finite number ≥ 1, got 0'],
    [
      { idempotencyKey: ' k' },
      'with.idempotencyKey must be printable ASCII with no space at either end, got " k"',
    ],
    [{ fresh: true }, 'with.fresh is not an option'],
  ])('refuses %j when with() is called, naming it', (options, message) => {
    const get = track(wrap(async (n: number) => n))
    expect(() => get.with(options as never)).toThrow(message)
  })
})
