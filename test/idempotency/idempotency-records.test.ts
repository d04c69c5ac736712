import { afterEach, describe, expect, it, vi } from 'vitest'
import type { HttpOutcome } from '../../src/core/outcome.js'
import { createIdempotencyStage } from '../../src/idempotency/idempotency-stage.js'
import { MemoryRecordStore } from '../../src/idempotency/memory-record-store.js'
import { headersOf, httpOutcome, makeContext } from '../helpers/call.js'
import {
  closeAll,
  held,
  LoggedStore,
  post,
  resolved,
  setup,
  upstream,
  valueCall,
} from '../helpers/idempotency-harness.js'

afterEach(closeAll)

describe('createIdempotencyStage records', () => {
  it.each([200, 201, 204, 400, 404, 422])('records a %i and replays it', async (status) => {
    const { stage } = setup()
    const { next, sent } = upstream(() => httpOutcome(status))
    const call = post({ idempotencyKey: `k-${status}` })
    await stage(call, next)
    expect((await stage(call, next)) as HttpOutcome).toMatchObject({ status })
    expect(sent).toHaveLength(1)
  })

  it.each([500, 503, 408, 409, 429])(
    'does not record a %i: a repeat goes upstream',
    async (status) => {
      const { stage } = setup()
      const { next, sent } = upstream((n) => httpOutcome(n === 0 ? status : 201))
      const call = post({ idempotencyKey: `k-${status}` })
      await stage(call, next)
      expect((await stage(call, next)) as HttpOutcome).toMatchObject({ status: 201 })
      expect(sent).toHaveLength(2)
    },
  )

  it('does not record a thrown error or a live stream', async () => {
    const { stage } = setup()
    const live = { ...httpOutcome(200), body: new ReadableStream<Uint8Array>() }
    const { next, sent } = upstream((n) => {
      if (n === 0) throw new Error('ECONNRESET')
      return n === 1 ? live : httpOutcome(201)
    })
    const call = post({ idempotencyKey: 'order-5' })
    await expect(stage(call, next)).rejects.toThrow('ECONNRESET')
    expect(await stage(call, next)).toBe(live)
    await stage(call, next)
    expect(sent).toHaveLength(3)
  })

  it('does not record a value it cannot copy, so a repeat calls the function again', async () => {
    const { stage } = setup()
    const { next, sent } = upstream(() => ({ kind: 'value', value: { run: () => 1 } }))
    const call = valueCall({ idempotencyKey: 'op-2' })
    await stage(call, next)
    await stage(call, next)
    expect(sent).toHaveLength(2)
  })

  it('frees the record when the caller aborts, so a later call goes upstream', async () => {
    const { stage } = setup()
    const caller = new AbortController()
    const { next, sent } = upstream(
      (n) =>
        new Promise((resolve, reject) => {
          if (n > 0) return resolve(httpOutcome(201))
          caller.signal.addEventListener('abort', () => reject(caller.signal.reason))
        }),
    )
    const leaving = stage(post({ idempotencyKey: 'order-6', signal: caller.signal }), next)
    await vi.waitFor(() => expect(sent).toHaveLength(1))
    caller.abort(new Error('left'))
    await expect(leaving).rejects.toThrow('left')
    expect(await stage(post({ idempotencyKey: 'order-6' }), next)).toMatchObject({ status: 201 })
    expect(sent).toHaveLength(2)
  })

  it('returns the outcome when the store cannot record it, and frees the record', async () => {
    const store = new LoggedStore()
    store.failComplete = true
    const { stage } = setup({}, store)
    const { next } = upstream()
    expect(await stage(post({ idempotencyKey: 'order-9' }), next)).toMatchObject({ status: 201 })
    expect(store.log).toEqual(['claim', 'complete', 'release'])
  })

  it('renews the lease every 10 s while the call runs, and stops when it ends', async () => {
    vi.useFakeTimers()
    try {
      const store = new LoggedStore()
      const { stage } = setup({}, store)
      const { next, answer } = held()
      const running = stage(post({ idempotencyKey: 'order-10' }), next)
      await vi.advanceTimersByTimeAsync(25_000)
      answer(httpOutcome(201))
      await running
      await vi.advanceTimersByTimeAsync(30_000)
      expect(store.log).toEqual(['claim', 'renew', 'renew', 'complete'])
    } finally {
      vi.useRealTimers()
    }
  })

  it('leaves the store alone with replay: false, still sending the key', async () => {
    const store = new LoggedStore()
    const { stage } = setup({ replay: false }, store)
    const { next, sent } = upstream()
    const call = post({ idempotencyKey: 'order-11' })
    await stage(call, next)
    await stage(call, next)
    expect(sent.map((c) => headersOf(c)?.get('idempotency-key'))).toEqual(['order-11', 'order-11'])
    expect(store.log).toEqual([])
  })

  it('keeps records for ttl ms', async () => {
    const { stage } = setup({ ttl: 50 })
    const { next, sent } = upstream()
    const call = post({ idempotencyKey: 'order-15' })
    await stage(call, next)
    await stage(call, next)
    expect(sent).toHaveLength(1)
    await new Promise((resolve) => setTimeout(resolve, 120))
    await stage(call, next)
    expect(sent).toHaveLength(2)
  })

  it('closes the store it made, and leaves a store it was given open', async () => {
    const given = new MemoryRecordStore()
    const upstreamCalls: number[] = []
    for (const store of [given, undefined]) {
      const { stage, close } = createIdempotencyStage(makeContext(), resolved(), store)
      const { next, sent } = upstream()
      await stage(post({ idempotencyKey: 'order-16' }), next)
      await close()
      await stage(post({ idempotencyKey: 'order-16' }), next)
      upstreamCalls.push(sent.length)
    }
    await given.close()
    expect(upstreamCalls).toEqual([1, 2])
  })
})
