import { afterEach, describe, expect, it, vi } from 'vitest'
import { isIdempotencyConflictError } from '../../src/core/errors.js'
import type { Outcome } from '../../src/core/outcome.js'
import { headersOf, httpOutcome, makeCall, textOf } from '../helpers/call.js'
import {
  bytes,
  closeAll,
  headerOf,
  held,
  LoggedStore,
  post,
  setup,
  upstream,
  valueCall,
} from '../helpers/idempotency-harness.js'

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

afterEach(closeAll)

describe('createIdempotencyStage', () => {
  it('sends a POST with a minted UUID key and makes it retryable, leaving the caller’s headers alone', async () => {
    const { stage } = setup()
    const { next, sent } = upstream()
    const headers = new Headers({ 'content-type': 'application/json' })
    await stage(post({ headers }), next)
    const key = headersOf(sent[0])?.get('idempotency-key')
    expect(key).toMatch(uuid)
    expect(sent[0]).toMatchObject({ idempotencyKey: key, resendable: true })
    expect(headersOf(sent[0])?.get('content-type')).toBe('application/json')
    expect(headers.has('idempotency-key')).toBe(false)
  })

  it('mints a different key for every call, and skips the store for minted keys', async () => {
    const store = new LoggedStore()
    const { stage } = setup({}, store)
    const { next, sent } = upstream()
    await stage(post(), next)
    await stage(post(), next)
    const keys = sent.map((c) => headersOf(c)?.get('idempotency-key'))
    expect(new Set(keys).size).toBe(2)
    expect(store.log).toEqual([])
  })

  it('sends the caller’s own key in the configured header', async () => {
    const { stage } = setup({ header: 'X-Request-Key' })
    const { next, sent } = upstream()
    await stage(post({ idempotencyKey: 'order-42' }), next)
    expect(headersOf(sent[0])?.get('x-request-key')).toBe('order-42')
    expect(headersOf(sent[0])?.has('idempotency-key')).toBe(false)
  })

  it('passes a method outside `methods` through untouched, unless the caller gave a key', async () => {
    const { stage } = setup({ methods: ['POST'] })
    const { next, sent } = upstream()
    const get = makeCall()
    await stage(get, next)
    expect(sent[0]).toBe(get)
    await stage(makeCall({ method: 'PATCH', idempotencyKey: 'mine' }), next)
    expect(headersOf(sent[1])?.get('idempotency-key')).toBe('mine')
  })

  it('neither mints a key nor adds a header for a wrapped function', async () => {
    const { stage } = setup()
    const { next, sent } = upstream(() => ({ kind: 'value', value: 1 }))
    const call = valueCall()
    await stage(call, next)
    expect(sent[0]).toBe(call)
  })

  it('replays a recorded outcome without calling upstream, marked idempotent-replayed', async () => {
    const { ctx, stage } = setup()
    const { next, sent } = upstream(() => httpOutcome(201, 'created', [['x-id', '7']]))
    const call = post({ idempotencyKey: 'order-1', body: bytes('{"n":1}') })
    const first = await stage(call, next)
    const second = await stage(call, next)
    expect(sent).toHaveLength(1)
    expect(headerOf(first, 'idempotent-replayed')).toBeUndefined()
    expect(second).toMatchObject({
      status: 201,
      headers: [
        ['x-id', '7'],
        ['idempotent-replayed', 'true'],
      ],
    })
    expect(textOf(second)).toBe('created')
    expect(ctx.counters.idempotentReplays).toBe(1)
    expect(ctx.seen).toEqual([
      { type: 'replay', key: 'k1', method: 'POST', target: 'http://127.0.0.1:1/a' },
    ])
  })

  it('replaces an idempotent-replayed header the server sent with its own', async () => {
    const { stage } = setup()
    const { next } = upstream(() => httpOutcome(201, '', [['idempotent-replayed', 'false']]))
    const call = post({ idempotencyKey: 'order-12' })
    await stage(call, next)
    const replayed = await stage(call, next)
    expect(replayed).toMatchObject({ headers: [['idempotent-replayed', 'true']] })
  })

  it('asks the transport for a whole body when the outcome will be recorded', async () => {
    const { stage } = setup()
    const { next, sent } = upstream()
    await stage(post(), next)
    await stage(post({ idempotencyKey: 'order-2' }), next)
    expect(sent.map((c) => c.buffered)).toEqual([false, true])
  })

  it('fails with IdempotencyConflictError when the key comes back with another body', async () => {
    const { stage } = setup()
    const { next, sent } = upstream()
    await stage(post({ idempotencyKey: 'order-3', body: bytes('{"n":1}') }), next)
    const again = post({ idempotencyKey: 'order-3', body: bytes('{"n":2}') })
    const error = await stage(again, next).catch((e: unknown) => e)
    expect(isIdempotencyConflictError(error)).toBe(true)
    expect(String(error)).toMatch(/"order-3".*different request.*body differ/)
    expect(sent).toHaveLength(1)
  })

  it('fails with IdempotencyConflictError when a wrapped function’s key comes back with other arguments', async () => {
    const { stage } = setup()
    const { next, sent } = upstream(() => ({ kind: 'value', value: { id: 'msg_1' } }))
    await stage(valueCall({ key: 'args-a', idempotencyKey: 'op-1' }), next)
    const error = await stage(valueCall({ key: 'args-b', idempotencyKey: 'op-1' }), next).catch(
      (e: unknown) => e,
    )
    expect(isIdempotencyConflictError(error)).toBe(true)
    expect(String(error)).toMatch(/"op-1".*arguments differ/)
    expect(sent).toHaveLength(1)
  })

  it('keeps one record per credential: two API keys may use the same idempotency key', async () => {
    const { stage } = setup()
    const { next, sent } = upstream()
    const as = (apiKey: string, text: string) =>
      post({
        idempotencyKey: 'order-4',
        headers: new Headers({ 'x-api-key': apiKey }),
        body: bytes(text),
      })
    await stage(as('alice', 'a'), next)
    await stage(as('bob', 'b'), next)
    expect(sent).toHaveLength(2)
  })

  it('makes a concurrent duplicate wait for the first outcome, then replays it', async () => {
    const { ctx, stage } = setup()
    const { next, sent, answer } = held()
    const call = post({ idempotencyKey: 'order-7' })
    const first = stage(call, next)
    const second = stage(call, next)
    await vi.waitFor(() => expect(sent).toHaveLength(1))
    answer(httpOutcome(201, 'once'))
    const outcomes = await Promise.all([first, second])
    expect(outcomes.map(textOf)).toEqual(['once', 'once'])
    expect(headerOf(outcomes[1] as Outcome, 'idempotent-replayed')).toBe('true')
    expect(sent).toHaveLength(1)
    expect(ctx.counters.idempotentReplays).toBe(1)
  })

  it('lets a waiting duplicate go upstream itself when the first call fails', async () => {
    const { stage } = setup()
    const { next, sent, answer } = held()
    const call = post({ idempotencyKey: 'order-13' })
    const first = stage(call, next)
    const second = stage(call, next)
    await vi.waitFor(() => expect(sent).toHaveLength(1))
    answer(httpOutcome(503, 'busy'))
    await vi.waitFor(() => expect(sent).toHaveLength(2))
    answer(httpOutcome(201, 'made'))
    expect((await Promise.all([first, second])).map(textOf)).toEqual(['busy', 'made'])
  })

  it('fails a concurrent duplicate at once with concurrent: reject', async () => {
    const { stage } = setup({ concurrent: 'reject' })
    const { next, answer } = held()
    const call = post({ idempotencyKey: 'order-8' })
    const first = stage(call, next)
    const error = await stage(call, next).catch((e: unknown) => e)
    expect(isIdempotencyConflictError(error)).toBe(true)
    expect(String(error)).toMatch(/"order-8".*still in flight/)
    answer(httpOutcome(201))
    await first
  })

  it('holds its key for idempotency.lease, renewed every third of it while the call runs', async () => {
    const leases: [string, number][] = []
    class LeaseLog extends LoggedStore {
      override claim(recordKey: string, fingerprint: string, leaseMs: number, ttlMs: number) {
        leases.push(['claim', leaseMs])
        return super.claim(recordKey, fingerprint, leaseMs, ttlMs)
      }
      override renew(recordKey: string, token: string, leaseMs: number) {
        leases.push(['renew', leaseMs])
        return super.renew(recordKey, token, leaseMs)
      }
    }
    const { stage } = setup({ lease: 150 }, new LeaseLog())
    const { next, answer } = held()
    const first = stage(post({ idempotencyKey: 'order-15' }), next)
    await vi.waitFor(() => expect(leases).toContainEqual(['renew', 150]), { timeout: 2_000 })
    answer(httpOutcome(201))
    await first
    expect(leases[0]).toEqual(['claim', 150])
  })

  it('stops a waiting duplicate when its caller aborts', async () => {
    const { stage } = setup()
    const { next, answer } = held()
    const call = post({ idempotencyKey: 'order-14' })
    const first = stage(call, next)
    const caller = new AbortController()
    const waiting = stage({ ...call, signal: caller.signal }, next)
    caller.abort(new Error('gone'))
    await expect(waiting).rejects.toThrow('gone')
    answer(httpOutcome(201))
    await first
  })
})
