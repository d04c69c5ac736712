import type { ServerResponse } from 'node:http'
import { afterEach, describe, expect, it } from 'vitest'
import {
  type IdempotencyUnknownOutcomeError,
  isIdempotencyConflictError,
  isIdempotencyUnknownOutcomeError,
} from '../../src/core/errors.js'
import type { Outcome } from '../../src/core/outcome.js'
import { Counters } from '../../src/core/stats.js'
import { createIdempotencyStage } from '../../src/idempotency/idempotency-stage.js'
import { MemoryRecordStore } from '../../src/idempotency/memory-record-store.js'
import type { IdempotencyOptions } from '../../src/idempotency/options.js'
import { createRetryStage } from '../../src/retry/retry-stage.js'
import { createFetchTransport } from '../../src/transport/fetch-transport.js'
import { createOwnFetch } from '../../src/transport/undici.js'
import { makeContext, textOf } from '../helpers/call.js'
import { bytes, LoggedStore, post, resolved } from '../helpers/idempotency-harness.js'
import { settings } from '../helpers/scripted.js'
import { delay, reply, startUpstream } from '../helpers/upstream.js'

const lease = 30_000

type Closing = (() => Promise<void>)[]

/** An upstream answering with `handle`, and a real HTTP transport to it; closed with `closing`. */
async function httpTo(handle: Parameters<typeof startUpstream>[0], closing: Closing) {
  const upstream = await startUpstream(handle)
  const own = createOwnFetch()
  closing.push(async () => {
    await own.close()
    await upstream.close()
  })
  const transport = createFetchTransport({
    fetch: own.fetch,
    counters: new Counters(),
    maxBodyBytes: 1_000_000,
  })
  return { upstream, transport }
}

describe('a call whose key was held by a holder that stopped mid-call', () => {
  const closing: Closing = []
  afterEach(async () => {
    await Promise.all(closing.splice(0).map((close) => close()))
  })

  /**
   * An upstream that holds the first request it gets (its holder stops before any answer) and
   * answers the others; records shared by the callers, their leases on a clock the test moves.
   */
  async function scene() {
    const held: ServerResponse[] = []
    const { upstream, transport: next } = await httpTo((_req, res, _seen, index) => {
      if (index === 0) held.push(res)
      else reply(res, 201, `order #${index}`)
    }, closing)
    const time = { now: 0 }
    const records = new MemoryRecordStore({ clock: { now: () => time.now } })
    closing.push(async () => {
      for (const res of held) res.destroy()
      await records.close()
    })
    /** One caller: an idempotency stage over the shared records and a real HTTP transport. */
    const caller = (options: IdempotencyOptions = {}) => {
      const ctx = makeContext()
      const { stage } = createIdempotencyStage(ctx, resolved({ lease, ...options }), records)
      const send = (overrides: Parameters<typeof post>[0] = {}) =>
        stage(
          post({
            url: `${upstream.url}/orders`,
            idempotencyKey: 'order-7',
            body: bytes('two apples'),
            ...overrides,
          }),
          next,
        )
      return { ctx, send }
    }
    const keysSeen = () => upstream.requests.map((r) => r.headers['idempotency-key'])
    /** The first caller sends, the upstream holds it, and its lease then lapses. */
    const stalled = async () => {
      const first = caller()
      first.send().catch(() => {})
      while (upstream.requests.length === 0) await delay(5)
      time.now += lease + 1
      return first
    }
    return { caller, keysSeen, stalled }
  }

  it('sends it once more with the same key under unknownOutcome: resend, and says so', async () => {
    const { caller, keysSeen, stalled } = await scene()
    await stalled()
    const second = caller()
    const outcome: Outcome = await second.send()
    expect(textOf(outcome)).toBe('order #1')
    expect(keysSeen()).toEqual(['order-7', 'order-7'])
    expect(second.ctx.counters.unknownOutcomes).toBe(1)
    expect(second.ctx.seen.filter((e) => e.type === 'unknownOutcome')).toEqual([
      expect.objectContaining({ type: 'unknownOutcome', rule: 'resend', method: 'POST' }),
    ])
    // What the resend recorded is what a repeat gets, without a third request.
    expect(textOf(await caller({ unknownOutcome: 'fail' }).send())).toBe('order #1')
    expect(keysSeen()).toHaveLength(2)
  })

  it('throws IdempotencyUnknownOutcomeError without sending under unknownOutcome: fail, every time', async () => {
    const { caller, keysSeen, stalled } = await scene()
    await stalled()
    const second = caller({ unknownOutcome: 'fail' })
    const error = (await second.send().catch((e: unknown) => e)) as IdempotencyUnknownOutcomeError
    expect(isIdempotencyUnknownOutcomeError(error)).toBe(true)
    expect(error.idempotencyKey).toBe('order-7')
    expect(error.message).toMatch(/"order-7".*may have been sent/)
    expect(second.ctx.counters.unknownOutcomes).toBe(1)
    expect(second.ctx.seen.map((e) => e.type)).toContain('unknownOutcome')
    // The record stays abandoned: the next caller under the rule is told the same.
    await expect(second.send()).rejects.toThrow(/may have been sent/)
    expect(keysSeen()).toEqual(['order-7'])
    // A call that says to resend it (someone checked the upstream) sends it.
    expect(textOf(await second.send({ unknownOutcome: 'resend' }))).toBe('order #1')
    expect(keysSeen()).toEqual(['order-7', 'order-7'])
  })

  it('is not told of an abandoned record when the first call failed and let its key go', async () => {
    const { caller, keysSeen } = await scene()
    const first = caller()
    const aborted = new AbortController()
    const sending = first.send({ signal: aborted.signal })
    while (keysSeen().length === 0) await delay(5)
    aborted.abort(new Error('caller left'))
    await expect(sending).rejects.toThrow('caller left')
    const second = caller({ unknownOutcome: 'fail' })
    expect(textOf(await second.send())).toBe('order #1')
    expect(second.ctx.counters.unknownOutcomes).toBe(0)
    expect(keysSeen()).toEqual(['order-7', 'order-7'])
  })

  it('names the option and the value it refuses', () => {
    expect(() => resolved({ unknownOutcome: 'retry' as never })).toThrow(
      /^idempotency\.unknownOutcome must be one of "resend", "fail", got "retry"$/,
    )
  })
})

describe('the record of a keyed call, marked sent as its first attempt leaves', () => {
  const closing: Closing = []
  afterEach(async () => {
    await Promise.all(closing.splice(0).map((close) => close()))
  })

  /** The idempotency stage over the retry stage and a real HTTP transport, on `records`. */
  async function scene(records: LoggedStore) {
    const marksSeen: number[] = []
    const { upstream, transport } = await httpTo((_req, res, _seen, index) => {
      // What the store had been asked when the request arrived.
      marksSeen.push(records.log.filter((step) => step === 'markSent').length)
      reply(res, index === 0 ? 503 : 201, `order #${index}`)
    }, closing)
    closing.push(() => records.close())
    const ctx = makeContext()
    const { stage } = createIdempotencyStage(ctx, resolved({ lease }), records)
    const retry = createRetryStage(ctx, settings({ maxAttempts: 3 }))
    const send = () =>
      stage(
        post({ url: `${upstream.url}/orders`, idempotencyKey: 'order-8', body: bytes('a pear') }),
        (call) => retry(call, transport),
      )
    return { send, marksSeen }
  }

  it('is marked before the first request leaves, and not again for a retry', async () => {
    const records = new LoggedStore()
    const { send, marksSeen } = await scene(records)
    expect(textOf(await send())).toBe('order #1')
    expect(marksSeen).toEqual([1, 1])
    expect(records.log).toEqual(['claim', 'markSent', 'complete'])
  })

  it('is not sent by a holder that stalled before sending and lost its record to another call', async () => {
    const time = { now: 0 }
    const records = new LoggedStore({ clock: { now: () => time.now } })
    const { upstream, transport } = await httpTo(
      (_req, res, _seen, index) => reply(res, 201, `#${index}`),
      closing,
    )
    closing.push(() => records.close())
    const call = post({
      url: `${upstream.url}/orders`,
      idempotencyKey: 'order-9',
      body: bytes('a fig'),
    })
    const stalledStage = createIdempotencyStage(makeContext(), resolved({ lease }), records).stage
    let wake = () => {}
    const stall = new Promise<void>((resolve) => {
      wake = resolve
    })
    // It waits (as for a bucket) past its lease, and another call of the key takes the record.
    const stalled = stalledStage(call, async (c) => {
      await stall
      return transport(c)
    }).catch((error: unknown) => error)
    while (records.log.length === 0) await delay(5)
    time.now += lease + 1
    const other = createIdempotencyStage(
      makeContext(),
      resolved({ lease, unknownOutcome: 'fail' }),
      records,
    )
    expect(textOf(await other.stage(call, transport))).toBe('#0')
    wake()
    expect(isIdempotencyConflictError(await stalled)).toBe(true)
    expect(upstream.requests).toHaveLength(1)
  })

  it('tries a mark the store failed again at the next renewal, and then no more', async () => {
    const records = new LoggedStore()
    records.failMarkSent = true
    const held: ServerResponse[] = []
    const { upstream, transport } = await httpTo((_req, res) => {
      held.push(res)
    }, closing)
    closing.push(async () => {
      for (const res of held) res.destroy()
      await records.close()
    })
    // A short lease, renewed every 100 ms while the upstream holds the call.
    const { stage } = createIdempotencyStage(makeContext(), resolved({ lease: 300 }), records)
    const call = post({ url: `${upstream.url}/orders`, idempotencyKey: 'order-4', body: bytes('') })
    const sending = stage(call, transport)
    while (held.length === 0) await delay(5)
    records.failMarkSent = false
    while (records.log.filter((step) => step === 'renew').length < 4) await delay(20)
    expect(records.log.filter((step) => step === 'markSent')).toHaveLength(2)
    held[0]?.writeHead(201).end('done')
    expect(textOf(await sending)).toBe('done')
  })

  it('is sent all the same when the store fails the mark', async () => {
    const records = new LoggedStore()
    records.failMarkSent = true
    const { send, marksSeen } = await scene(records)
    expect(textOf(await send())).toBe('order #1')
    expect(marksSeen).toEqual([1, 1])
    // What was sent is recorded: a repeat replays it.
    expect(textOf(await send())).toBe('order #1')
    expect(marksSeen).toHaveLength(2)
  })
})
