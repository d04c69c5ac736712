import { afterEach, describe, expect, it } from 'vitest'
import { IdempotencyUnknownOutcomeError } from '../../src/core/errors.js'
import { type BreakwaterQueue, createQueue, type QueueEvent } from '../../src/queue/index.js'
import { reply, useUpstream } from '../helpers/upstream.js'

const { up } = useUpstream()
const open: BreakwaterQueue[] = []
afterEach(async () => {
  await Promise.all(open.splice(0).map((q) => q.close({ timeout: 1_000 })))
})

function queue(options: Partial<Parameters<typeof createQueue>[0]> = {}): BreakwaterQueue {
  const q = createQueue({
    name: 'mem',
    fetch: { retry: false, cache: false },
    backoff: { delay: 10, jitter: 0 },
    ...options,
  })
  open.push(q)
  return q
}

describe('createQueue in memory', () => {
  it('gives an id at once and completes the HTTP job with its answer', async () => {
    const q = queue()
    const id = await q.add({ method: 'POST', url: `${up.url}/items`, body: '{"a":1}' })
    const info = await q.wait(id, { timeout: 5_000 })
    expect(info.state).toBe('completed')
    expect(info.result).toMatchObject({ status: 200, replayed: false })
    expect(up.requests[0]).toMatchObject({ method: 'POST', url: '/items', body: '{"a":1}' })
    expect(up.requests[0]?.headers['idempotency-key']).toBe(id)
    expect(info.history.map((h) => h.event)).toEqual(['started', 'completed'])
  })

  it('retries a failing job with backoff, then puts it in the dead-letter list with its history', async () => {
    up.handle((_req, res) => reply(res, 500, 'down'))
    const events: QueueEvent['type'][] = []
    const q = queue({ attempts: 3, onEvent: (e) => events.push(e.type) })
    const id = await q.add({
      url: `${up.url}/x`,
      headers: { authorization: 'Bearer secret', 'x-trace': 't1' },
    })
    const info = await q.wait(id, { timeout: 5_000 })
    expect(info.state).toBe('dead')
    expect(info.attemptsMade).toBe(3)
    expect(info.error).toBe('upstream answered 500')
    expect(info.history.map((h) => h.event)).toEqual([
      ...['started', 'failed', 'started', 'failed', 'started', 'dead'],
    ])
    expect(info.history[1]).toMatchObject({ reason: 'upstream answered 500', delay: 10 })
    expect(info.history[3]).toMatchObject({ delay: 20 })
    expect(events).toEqual(['failed', 'failed', 'dead'])
    const [listed] = await q.dead.list()
    expect(listed?.data).toMatchObject({
      kind: 'http',
      request: { headers: { authorization: '[redacted]', 'x-trace': 't1' } },
    })
    expect(up.requests[0]?.headers.authorization).toBe('Bearer secret')
  })

  it('sends a 4xx straight to the dead-letter list, spending one attempt', async () => {
    up.handle((_req, res) => reply(res, 400, 'bad'))
    const q = queue()
    const info = await q.wait(await q.add({ url: up.url }), { timeout: 5_000 })
    expect(info).toMatchObject({ state: 'dead', attemptsMade: 1, error: 'upstream answered 400' })
    expect(up.requests).toHaveLength(1)
  })

  it('puts a job off for a 429 with Retry-After without spending an attempt', async () => {
    up.handle((_req, res, _seen, index) =>
      index === 0 ? reply(res, 429, '', { 'retry-after-ms': '30' }) : reply(res, 200, 'ok'),
    )
    const q = queue({ attempts: 1 })
    const info = await q.wait(await q.add({ url: up.url }), { timeout: 5_000 })
    expect(info.state).toBe('completed')
    expect(info.attemptsMade).toBe(1)
    expect(info.history.map((h) => h.event)).toEqual(['started', 'paused', 'started', 'completed'])
    expect(info.history[1]).toMatchObject({ delay: 30 })
  })

  it("puts a job off for a server's Retry-After rather than sleeping it out in the call", async () => {
    up.handle((_req, res, _seen, index) =>
      index === 0 ? reply(res, 429, '', { 'retry-after-ms': '40' }) : reply(res, 200, 'ok'),
    )
    // The call's own retries are on (the default): a 500 would be retried in the call.
    const q = queue({ attempts: 1, fetch: { cache: false } })
    const info = await q.wait(await q.add({ url: up.url }), { timeout: 5_000 })
    expect(info).toMatchObject({ state: 'completed', attemptsMade: 1 })
    expect(info.history.map((h) => h.event)).toEqual(['started', 'paused', 'started', 'completed'])
    expect(info.history[1]).toMatchObject({ delay: 40 })
    expect(up.requests).toHaveLength(2)
  })

  it('keeps a maxRetryAfter given in the fetch options', async () => {
    up.handle((_req, res, _seen, index) =>
      index === 0 ? reply(res, 429, '', { 'retry-after-ms': '20' }) : reply(res, 200, 'ok'),
    )
    const q = queue({ fetch: { cache: false, retry: { maxRetryAfter: 1_000, baseDelay: 1 } } })
    const info = await q.wait(await q.add({ url: up.url }), { timeout: 5_000 })
    expect(info.history.map((h) => h.event)).toEqual(['started', 'completed'])
    expect(up.requests).toHaveLength(2)
  })

  it('retries a dead job from the list and completes it once the upstream is fixed', async () => {
    up.handle((_req, res) => reply(res, 503, 'down'))
    const q = queue({ attempts: 2 })
    const id = await q.add({ method: 'POST', url: up.url, body: 'x' })
    expect((await q.wait(id, { timeout: 5_000 })).state).toBe('dead')
    up.handle((_req, res) => reply(res, 200, 'fixed'))
    expect(await q.dead.retry(id)).toBe(true)
    const info = await q.wait(id, { timeout: 5_000 })
    expect(info).toMatchObject({ state: 'completed', result: { body: 'fixed' } })
    expect(info.history.map((h) => h.event)).toContain('retried')
    expect(await q.dead.list()).toEqual([])
  })

  it('runs registered functions with JSON arguments', async () => {
    const q = queue({ functions: { add: (a: number, b: number) => a + b } })
    const info = await q.wait(await q.call('add', [2, 3]), { timeout: 5_000 })
    expect(info).toMatchObject({ state: 'completed', result: 5 })
    await expect(q.call('nope', [])).rejects.toThrow('no function "nope"')
  })

  it('classifies what a function throws by its status', async () => {
    const fail = (status: number) => {
      throw Object.assign(new Error(`status ${status}`), { status })
    }
    const q = queue({ attempts: 3, functions: { fail }, breakwater: { retry: false } })
    const dead = await q.wait(await q.call('fail', [404]), { timeout: 5_000 })
    expect(dead).toMatchObject({ state: 'dead', attemptsMade: 1 })
    const retried = await q.wait(await q.call('fail', [500]), { timeout: 5_000 })
    expect(retried).toMatchObject({ state: 'dead', attemptsMade: 3 })
  })

  it('puts a job whose earlier call may have been sent in the dead-letter list, named as such', async () => {
    const q = queue({
      functions: {
        charge: () => {
          throw new IdempotencyUnknownOutcomeError('charge-1')
        },
      },
    })
    const info = await q.wait(await q.call('charge', [], { id: 'charge-1' }), { timeout: 5_000 })
    expect(info).toMatchObject({ state: 'dead', attemptsMade: 1 })
    expect(info.error).toMatch(/^outcome unknown: its call was sent by a worker that died/)
  })

  it('adds nothing for an id that exists, and purges the dead-letter list', async () => {
    up.handle((_req, res) => reply(res, 400, 'bad'))
    const q = queue()
    await q.add({ url: up.url }, { id: 'job-1' })
    await q.add({ url: `${up.url}/other` }, { id: 'job-1' })
    await q.wait('job-1', { timeout: 5_000 })
    expect(up.requests).toHaveLength(1)
    expect(await q.dead.purge()).toBe(1)
    expect(await q.get('job-1')).toBeUndefined()
  })

  it('hands running jobs back on close() once its timeout has passed', async () => {
    let release = () => {}
    up.handle((_req, res) => {
      release = () => reply(res, 200, 'late')
    })
    const events: QueueEvent['type'][] = []
    const q = createQueue({
      name: 'mem',
      fetch: { retry: false },
      onEvent: (e) => events.push(e.type),
    })
    const id = await q.add({ url: up.url })
    while (up.requests.length === 0) await new Promise((r) => setTimeout(r, 5))
    const before = await q.get(id)
    await q.close({ timeout: 50 })
    release()
    expect(before?.state).toBe('active')
    expect(events).toEqual(['handedBack'])
  })

  it('closes right after it is made, its worker never started', async () => {
    const events: QueueEvent['type'][] = []
    const q = createQueue({ name: 'mem', onEvent: (e) => events.push(e.type) })
    const adding = q.add({ url: up.url })
    await q.close()
    await adding.catch(() => {})
    await new Promise((r) => setTimeout(r, 50))
    expect(up.requests).toHaveLength(0)
    expect(events).toEqual([])
    await expect(q.counts()).rejects.toThrow('used after close()')
  })

  it('validates its options once, naming the option and the value', async () => {
    expect(() => createQueue({ name: 'a:b' })).toThrow(TypeError)
    expect(() => createQueue({ name: 'q', attempts: 0 })).toThrow(
      'attempts must be an integer ≥ 1, got 0',
    )
    expect(() => createQueue({ name: 'q', redis: 'http://x' })).toThrow('redis must be a redis://')
    expect(() => createQueue({ name: 'q', backoff: { jitter: 2 } })).toThrow(RangeError)
    expect(() => createQueue({ name: 'q', onUnknownOutcome: 'fail' as never })).toThrow(
      'onUnknownOutcome must be one of "resend", "dead", got "fail"',
    )
    const q = queue()
    await expect(q.add({ url: 'ftp://x' })).rejects.toThrow(
      'request.url must be an absolute http(s) URL',
    )
    await expect(q.add({ url: up.url, body: 'x' })).rejects.toThrow('absent on GET')
    await expect(q.add({ url: up.url }, { id: '123' })).rejects.toThrow('digits only')
  })
})
