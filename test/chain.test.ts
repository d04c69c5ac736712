import { afterEach, describe, expect, it, vi } from 'vitest'
import { breakerPart } from '../src/breaker/part.js'
import { cachePart } from '../src/cache/part.js'
import { chain, createInstance, type Instance } from '../src/chain.js'
import { coalescePart, leasePart } from '../src/coalesce/part.js'
import { concurrencyPart } from '../src/concurrency/part.js'
import type { Outcome } from '../src/core/outcome.js'
import type { Next } from '../src/core/stage.js'
import { idempotencyPart } from '../src/idempotency/part.js'
import { type BreakwaterOptions, resolveOptions } from '../src/options.js'
import type { Part, PartFactory } from '../src/part.js'
import { poolPart } from '../src/pool/part.js'
import { rateLimitPart } from '../src/ratelimit/part.js'
import { RedisConnection } from '../src/redis/connection.js'
import { retryPart } from '../src/retry/part.js'
import { streamPart } from '../src/stream/part.js'
import { timeoutPart } from '../src/timeout/part.js'
import { httpOutcome, makeCall } from './helpers/call.js'
import { redisUrl, testNamespace } from './helpers/redis.js'

let open: Instance[] = []

afterEach(async () => {
  await Promise.all(open.map((i) => i.close()))
  open = []
})

/** The real parts, each under its name, in the order the chain must have. */
const named: readonly (readonly [string, PartFactory])[] = [
  ['cache', cachePart],
  ['coalesce', coalescePart],
  ['lease', leasePart],
  ['idempotency', idempotencyPart],
  ['pool', poolPart],
  ['breaker', breakerPart],
  ['retry', retryPart],
  ['rateLimit', rateLimitPart],
  ['concurrency', concurrencyPart],
  ['timeout', timeoutPart],
  ['stream', streamPart],
]

/** A transport the test holds: it counts what reaches it and answers 200, or waits if told. */
function transport(hold = false) {
  const calls: string[] = []
  const answers: (() => void)[] = []
  const next: Next = (call) => {
    calls.push(call.key)
    if (!hold) return Promise.resolve(httpOutcome())
    return new Promise<Outcome>((resolve) => answers.push(() => resolve(httpOutcome())))
  }
  const answerAll = () => {
    for (const answer of answers.splice(0)) answer()
  }
  return { calls, next, answerAll }
}

/** The real chain with every part that is present watched: `made` and `ran` by name. */
function watched(options: BreakwaterOptions, next: Next) {
  const made: string[] = []
  const ran: string[] = []
  const parts = named.map(
    ([name, factory]): PartFactory =>
      (context, resolved, shared) => {
        const part = factory(context, resolved, shared)
        if (part === undefined) return undefined
        made.push(name)
        return {
          ...part,
          stage: (call, down) => {
            ran.push(name)
            return part.stage(call, down)
          },
        }
      },
  )
  const instance = createInstance(resolveOptions(options), () => next, undefined, parts)
  open.push(instance)
  return { instance, made, ran }
}

/** A part of the test's own that logs its stage, drain and close under `name`. */
function logging(name: string, log: string[], extra: Partial<Part> = {}): PartFactory {
  return () => ({
    stage: (call, next) => {
      log.push(`stage ${name}`)
      return next(call)
    },
    drain: async () => {
      log.push(`drain ${name}`)
    },
    close: async () => {
      log.push(`close ${name}`)
    },
    ...extra,
  })
}

describe('chain', () => {
  it('lists the parts outermost first: cache down to the stream commit', () => {
    expect(chain).toEqual(named.map(([, factory]) => factory))
  })
})

describe('createInstance', () => {
  it('sends a call down its parts in order, then to the transport', async () => {
    const log: string[] = []
    const parts = ['a', 'b', 'c'].map((name) => logging(name, log))
    const down: Next = async () => {
      log.push('transport')
      return httpOutcome()
    }
    const instance = createInstance(resolveOptions({}), () => down, undefined, parts)
    open.push(instance)
    await instance.run(makeCall())
    expect(log).toEqual(['stage a', 'stage b', 'stage c', 'transport'])
  })

  it('runs the present real parts in chain order', async () => {
    const { next } = transport()
    const { instance, made, ran } = watched(
      {
        rateLimit: { name: 'rps', perSecond: 1_000 },
        concurrency: 4,
        pool: { targets: [{ name: 'a' }] },
      },
      next,
    )
    await instance.run(makeCall())
    // No Redis: no lease. A GET needs no idempotency key.
    expect(made).toEqual([
      'cache',
      'coalesce',
      'idempotency',
      'pool',
      'breaker',
      'retry',
      'rateLimit',
      'concurrency',
      'timeout',
    ])
    // A miss goes through every one of them, in the same order.
    expect(ran).toEqual(made)
  })

  it('leaves out a part its options turn off: cache: false calls no cache stage', async () => {
    const { next, calls } = transport()
    const { instance, made, ran } = watched({ cache: false, retry: false, breaker: false }, next)
    await instance.run(makeCall())
    expect(made).not.toContain('cache')
    expect(made).not.toContain('retry')
    expect(made).not.toContain('breaker')
    expect(ran).toEqual(made)
    expect(ran).not.toContain('cache')
    expect(calls).toEqual(['k1'])
  })

  it('answers a cache hit from the cache alone: nothing below it runs, nothing is sent', async () => {
    const { next, calls } = transport()
    const { instance, ran } = watched({}, next)
    await instance.run(makeCall())
    expect(calls).toHaveLength(1)
    ran.length = 0
    const hit = await instance.run(makeCall())
    expect(hit).toMatchObject({ kind: 'http', status: 200 })
    expect(ran).toEqual(['cache'])
    expect(calls).toHaveLength(1)
  })

  it('drains every part outermost first, closes them innermost first, then Redis, then onClose', async () => {
    const log: string[] = []
    const closeRedis = RedisConnection.prototype.close
    vi.spyOn(RedisConnection.prototype, 'close').mockImplementation(async function (
      this: RedisConnection,
    ) {
      await closeRedis.call(this)
      log.push('close redis')
    })
    const options = resolveOptions({
      redis: { url: redisUrl() },
      namespace: testNamespace('chain'),
    })
    const parts = ['outer', 'middle', 'inner'].map((name) => logging(name, log))
    const instance = createInstance(
      options,
      () => async () => httpOutcome(),
      async () => {
        log.push('onClose')
      },
      parts,
    )
    await instance.close()
    expect(log).toEqual([
      'drain outer',
      'drain middle',
      'drain inner',
      'close inner',
      'close middle',
      'close outer',
      'close redis',
      'onClose',
    ])
    expect(instance.closed).toBe(true)
    await instance.close()
    expect(log).toHaveLength(8)
  })

  it('throws a RangeError naming the bucket on adjust when no rate limit is configured', () => {
    const { instance } = watched({}, transport().next)
    expect(() => instance.adjust('rpm', 'k', -1)).toThrow(RangeError)
    expect(() => instance.adjust('rpm', 'k', -1)).toThrow(/"rpm"/)
  })

  it('takes stats().inFlight from the part that counts it', () => {
    const parts = [logging('a', []), logging('coalesce', [], { inFlight: () => 7 })]
    const instance = createInstance(
      resolveOptions({}),
      () => async () => httpOutcome(),
      undefined,
      parts,
    )
    open.push(instance)
    expect(instance.stats().inFlight).toBe(7)
  })

  it('counts in stats().inFlight the upstream call identical calls share, through coalescing', async () => {
    const held = transport(true)
    const { instance } = watched({ cache: false }, held.next)
    const calls = [instance.run(makeCall()), instance.run(makeCall())]
    await vi.waitFor(() => expect(held.calls).toHaveLength(1))
    expect(instance.stats().inFlight).toBe(1)
    held.answerAll()
    await Promise.all(calls)
    expect(instance.stats().inFlight).toBe(0)
    expect(held.calls).toHaveLength(1)
  })
})
