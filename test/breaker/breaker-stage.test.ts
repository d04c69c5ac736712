import { describe, expect, it } from 'vitest'
import { createBreakerStage } from '../../src/breaker/breaker-stage.js'
import type { ResolvedBreaker } from '../../src/breaker/options.js'
import type { Call, CallDetails } from '../../src/core/call.js'
import { CircuitOpenError, isCircuitOpenError, RateLimitError } from '../../src/core/errors.js'
import type { Events } from '../../src/core/events.js'
import type { Outcome } from '../../src/core/outcome.js'
import type { Next } from '../../src/core/stage.js'
import { httpOutcome, makeCall, makeContext } from '../helpers/call.js'

const settings: ResolvedBreaker = {
  failureThreshold: 3,
  halfOpenAfter: 1_000,
  scope: (call) => call.origin,
}

/** A `next` whose answer the test sets, and which records what was sent. */
function scripted() {
  const sent: Call[] = []
  let answer: () => Promise<Outcome> = async () => httpOutcome(200)
  const next: Next = (call) => {
    sent.push(call)
    return answer()
  }
  return {
    next,
    sent,
    status(code: number) {
      answer = async () => httpOutcome(code)
    },
    returns(outcome: Outcome) {
      answer = async () => outcome
    },
    throws(error: unknown) {
      answer = async () => {
        throw error
      }
    },
    /** The next calls wait until the test releases them with an outcome. */
    hold(): (outcome: Outcome) => void {
      let release: (outcome: Outcome) => void = () => {}
      const held = new Promise<Outcome>((resolve) => {
        release = resolve
      })
      answer = () => held
      return release
    },
  }
}

function setup(breaker: ResolvedBreaker = settings) {
  const ctx = makeContext()
  const stage = createBreakerStage(ctx, breaker)
  const upstream = scripted()
  const send = (call: Call = makeCall()) => stage(call, upstream.next)
  const failTimes = async (count: number, call?: Call) => {
    upstream.status(503)
    for (let i = 0; i < count; i++) await send(call)
  }
  return { ctx, upstream, send, failTimes }
}

describe('createBreakerStage', () => {
  it('opens after failureThreshold consecutive 5xx and then fails fast without sending', async () => {
    const { ctx, upstream, send, failTimes } = setup()
    await failTimes(3)
    expect(upstream.sent).toHaveLength(3)
    ctx.time.now += 400
    const error = await send().catch((e: unknown) => e)
    expect(error).toBeInstanceOf(CircuitOpenError)
    expect(error).toMatchObject({ scope: 'http://127.0.0.1:1', retryAfter: 600 })
    expect(upstream.sent).toHaveLength(3)
    expect(ctx.counters.breakerOpens).toBe(1)
    expect(ctx.counters.breakerRejects).toBe(1)
  })

  it('counts thrown errors and 408 as failures', async () => {
    const { upstream, send } = setup()
    upstream.throws(new Error('ECONNRESET'))
    await expect(send()).rejects.toThrow('ECONNRESET')
    await expect(send()).rejects.toThrow('ECONNRESET')
    upstream.status(408)
    await send()
    await expect(send()).rejects.toSatisfy(isCircuitOpenError)
  })

  it('counts 4xx answers and values as successes, which reset the failure count', async () => {
    const { upstream, send, failTimes } = setup()
    await failTimes(2)
    upstream.status(404)
    await send()
    await failTimes(2)
    upstream.status(429)
    await send()
    await failTimes(2)
    upstream.returns({ kind: 'value', value: { status: 503 } })
    await send(makeCall({ kind: 'value', method: 'CALL' }))
    await failTimes(2)
    expect(upstream.sent).toHaveLength(11)
  })

  it('lets one probe through after halfOpenAfter on the context clock and closes on its success', async () => {
    const { ctx, upstream, send, failTimes } = setup()
    await failTimes(3)
    ctx.time.now += 999
    await expect(send()).rejects.toSatisfy(isCircuitOpenError)
    ctx.time.now += 1
    const release = upstream.hold()
    const probe = send()
    await expect(send()).rejects.toSatisfy(isCircuitOpenError)
    expect(upstream.sent).toHaveLength(4)
    release(httpOutcome(200))
    await expect(probe).resolves.toMatchObject({ status: 200 })
    upstream.status(200)
    await send()
    expect(upstream.sent).toHaveLength(5)
    expect(ctx.seen.filter((e) => e.type === 'breaker')).toMatchObject([
      { scope: 'http://127.0.0.1:1', from: 'closed', to: 'open' },
      { from: 'open', to: 'halfOpen' },
      { from: 'halfOpen', to: 'closed' },
    ])
  })

  it('re-opens on a failed probe for another halfOpenAfter from the failure', async () => {
    const { ctx, send, failTimes } = setup()
    await failTimes(3)
    ctx.time.now += 1_000
    await failTimes(1)
    ctx.time.now += 999
    await expect(send()).rejects.toMatchObject({ retryAfter: 1 })
    ctx.time.now += 1
    await send()
    expect(ctx.counters.breakerOpens).toBe(3)
    expect(ctx.seen.map((e) => (e.type === 'breaker' ? `${e.from}>${e.to}` : e.type))).toEqual([
      'closed>open',
      'open>halfOpen',
      'halfOpen>open',
      'open>halfOpen',
      'halfOpen>open',
    ])
  })

  it("does not count the caller's own abort, and a probe aborted by its caller frees the slot", async () => {
    const { ctx, upstream, send, failTimes } = setup()
    const controller = new AbortController()
    controller.abort()
    const aborted = makeCall({ signal: controller.signal })
    upstream.throws(controller.signal.reason)
    for (let i = 0; i < 5; i++) await expect(send(aborted)).rejects.toThrow()
    expect(ctx.counters.breakerOpens).toBe(0)
    await failTimes(3)
    ctx.time.now += 1_000
    upstream.throws(controller.signal.reason)
    await expect(send(aborted)).rejects.toThrow()
    upstream.status(200)
    await send()
    expect(
      ctx.seen.filter((e) => e.type === 'breaker').map((e) => e.type === 'breaker' && e.to),
    ).toEqual(['open', 'halfOpen', 'closed'])
  })

  it('does not count a local rate-limit refusal', async () => {
    const { ctx, upstream, send } = setup()
    upstream.throws(new RateLimitError('budget spent', 50))
    for (let i = 0; i < 5; i++) await expect(send()).rejects.toBeInstanceOf(RateLimitError)
    expect(ctx.counters.breakerOpens).toBe(0)
  })

  it('keeps one breaker per scope', async () => {
    const { upstream, send, failTimes } = setup()
    const other = makeCall({ origin: 'http://127.0.0.1:2', url: 'http://127.0.0.1:2/a' })
    await failTimes(3)
    upstream.status(200)
    await expect(send()).rejects.toSatisfy(isCircuitOpenError)
    await expect(send(other)).resolves.toMatchObject({ status: 200 })
  })

  it('keeps at most 1,000 scopes, forgetting the least recently used', async () => {
    const { upstream, send, failTimes } = setup()
    const at = (port: number) =>
      makeCall({
        origin: `http://h:${port}`,
        url: `http://h:${port}/a`,
        target: `http://h:${port}/a`,
      })
    for (let port = 0; port <= 1_000; port++) await failTimes(3, at(port))
    upstream.status(200)
    await expect(send(at(1_000))).rejects.toSatisfy(isCircuitOpenError)
    await expect(send(at(0))).resolves.toMatchObject({ status: 200 })
  })

  it('asks the scope function with the call’s details, as every hook, and keys breakers by its answer', async () => {
    const asked: unknown[] = []
    const { send, failTimes } = setup({
      ...settings,
      scope: (info) => {
        asked.push(info)
        return 'everything'
      },
    })
    await failTimes(3)
    const other = makeCall({ origin: 'http://127.0.0.1:2', url: 'http://127.0.0.1:2/a' })
    await expect(send(other)).rejects.toMatchObject({ scope: 'everything' })
    expect(asked[0]).toMatchObject({
      method: 'GET',
      url: 'http://127.0.0.1:1/a',
      origin: 'http://127.0.0.1:1',
      body: undefined,
      args: undefined,
    })
    expect((asked[0] as CallDetails).headers).toBeInstanceOf(Headers)
  })

  it('emits no breaker event when no one listens', async () => {
    const ctx = makeContext()
    const emitted: unknown[] = []
    const events = { wants: () => false, emit: (event: unknown) => emitted.push(event) }
    const stage = createBreakerStage({ ...ctx, events: events as unknown as Events }, settings)
    const next: Next = async () => httpOutcome(500)
    for (let i = 0; i < 3; i++) await stage(makeCall(), next)
    expect(ctx.counters.breakerOpens).toBe(1)
    expect(emitted).toHaveLength(0)
  })
})
