import { afterEach, describe, expect, it } from 'vitest'
import { isIdempotencyConflictError, type Wrapped, wrap } from '../../src/index.js'

const open: Wrapped<never[], unknown>[] = []
function track<A extends unknown[], R>(w: Wrapped<A, R>): Wrapped<A, R> {
  open.push(w as unknown as Wrapped<never[], unknown>)
  return w
}
afterEach(async () => {
  await Promise.all(open.splice(0).map((w) => w.close()))
})

interface Params {
  readonly opId: string
  readonly amount: number
}

/** A side-effecting function (a charge), counted, keyed by the operation id it is given. */
function charges(behave: (n: number) => Promise<unknown> | unknown = (n) => ({ charge: n })) {
  const made: Params[] = []
  const charge = track(
    wrap(
      async (params: Params) => {
        made.push(params)
        return behave(made.length)
      },
      // Off, so that only idempotency can save a call here.
      { cache: false, coalesce: false, retry: false, idempotencyKey: (p) => p.opId },
    ),
  )
  return { charge, made }
}

describe('wrap idempotency', () => {
  it('answers a repeated key with the recorded value, without calling the function', async () => {
    const { charge, made } = charges()
    expect(await charge({ opId: 'op-1', amount: 5 })).toEqual({ charge: 1 })
    expect(await charge({ opId: 'op-1', amount: 5 })).toEqual({ charge: 1 })
    expect(made).toHaveLength(1)
    expect(charge.stats()).toMatchObject({ idempotentReplays: 1, upstreamCalls: 1 })
  })

  it('hands each caller a value of its own', async () => {
    const { charge } = charges()
    const first = (await charge({ opId: 'op-2', amount: 5 })) as { charge: number }
    first.charge = 99
    const second = (await charge({ opId: 'op-2', amount: 5 })) as { charge: number }
    second.charge = 98
    expect(await charge({ opId: 'op-2', amount: 5 })).toEqual({ charge: 1 })
  })

  it('fails with IdempotencyConflictError when the key comes back with other arguments', async () => {
    const { charge, made } = charges()
    await charge({ opId: 'op-3', amount: 5 })
    const error = await charge({ opId: 'op-3', amount: 6 }).catch((e: unknown) => e)
    expect(isIdempotencyConflictError(error)).toBe(true)
    expect((error as Error).message).toContain('op-3')
    expect(made).toHaveLength(1)
  })

  it('does not record a throw: the next call with the key runs the function', async () => {
    const { charge, made } = charges((n) => {
      if (n === 1) throw Object.assign(new Error('overloaded'), { status: 529 })
      return { charge: n }
    })
    await expect(charge({ opId: 'op-4', amount: 5 })).rejects.toThrow('overloaded')
    expect(await charge({ opId: 'op-4', amount: 5 })).toEqual({ charge: 2 })
    expect(made).toHaveLength(2)
  })

  it('makes a concurrent duplicate wait for the first call’s value', async () => {
    let finish: (value: unknown) => void = () => {}
    const { charge, made } = charges(() => new Promise((resolve) => (finish = resolve)))
    const first = charge({ opId: 'op-5', amount: 5 })
    const second = charge({ opId: 'op-5', amount: 5 })
    await expect.poll(() => made.length).toBe(1)
    finish({ charge: 'once' })
    expect(await Promise.all([first, second])).toEqual([{ charge: 'once' }, { charge: 'once' }])
    expect(made).toHaveLength(1)
  })

  it('treats calls without a key as before', async () => {
    const made: number[] = []
    const plain = track(
      wrap(async (n: number) => made.push(n), { cache: false, idempotencyKey: () => undefined }),
    )
    await plain(1)
    await plain(1)
    expect(made).toEqual([1, 1])
    expect(plain.stats().idempotentReplays).toBe(0)
  })
})
