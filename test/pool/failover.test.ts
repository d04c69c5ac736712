import { describe, expect, it } from 'vitest'
import { CircuitOpenError, RateLimitError, TimeoutError } from '../../src/core/errors.js'
import { failoverOf } from '../../src/pool/failover.js'
import { resolvePool } from '../../src/pool/options.js'
import { httpOutcome } from '../helpers/call.js'
import { netError } from '../helpers/scripted.js'

const pool = resolvePool({ targets: [{ name: 'a' }] })
if (pool === false) throw new Error('pool is on')
const rules = pool.failover
const now = 1_000_000
const answer = (status: number, headers: [string, string][] = []) =>
  ({ ok: true, outcome: httpOutcome(status, '', headers) }) as const
const thrown = (error: unknown) => ({ ok: false, error }) as const

describe('failoverOf', () => {
  it('moves on from a 5xx, a 529 and a 429 that retries did not cure', () => {
    for (const status of [500, 502, 503, 529, 429, 408]) {
      expect(failoverOf(answer(status), rules, true, now)).toEqual({
        reason: `status ${status}`,
        wait: undefined,
      })
    }
  })

  it('ends the call on an answer another target would give too', () => {
    for (const status of [200, 400, 401, 404, 422, 501, 505]) {
      expect(failoverOf(answer(status), rules, true, now)).toBeUndefined()
    }
  })

  it('reads the wait the server named for the cooldown', () => {
    expect(failoverOf(answer(429, [['retry-after', '120']]), rules, true, now)).toEqual({
      reason: 'status 429',
      wait: 120_000,
    })
  })

  it('moves on from an open breaker and a budget that cannot start the call, with their waits', () => {
    expect(failoverOf(thrown(new CircuitOpenError('a', 4_000)), rules, false, now)).toEqual({
      reason: 'circuitOpen',
      wait: 4_000,
    })
    expect(failoverOf(thrown(new RateLimitError('spent', 70_000)), rules, false, now)).toEqual({
      reason: 'rateLimited',
      wait: 70_000,
    })
  })

  it('finds a refusal down the cause chain of an SDK error', () => {
    const sdkError = new Error('Connection error.', { cause: new RateLimitError('spent', 500) })
    expect(failoverOf(thrown(sdkError), rules, true, now)?.reason).toBe('rateLimited')
  })

  it('moves on from network errors and timeouts of a resendable call', () => {
    expect(failoverOf(thrown(netError('ECONNRESET')), rules, true, now)?.reason).toBe('ECONNRESET')
    expect(failoverOf(thrown(new TimeoutError(100)), rules, true, now)?.reason).toBe('timeout')
  })

  it('moves a call that may not be sent twice on only when nothing was sent', () => {
    expect(failoverOf(answer(503), rules, false, now)).toBeUndefined()
    expect(failoverOf(thrown(netError('ECONNRESET')), rules, false, now)).toBeUndefined()
    expect(failoverOf(thrown(netError('ECONNREFUSED')), rules, false, now)?.reason).toBe(
      'ECONNREFUSED',
    )
  })

  it('reads the status of an error a wrapped SDK threw', () => {
    const overloaded = Object.assign(new Error('Overloaded'), { status: 529, headers: {} })
    expect(failoverOf(thrown(overloaded), rules, true, now)?.reason).toBe('status 529')
    const bad = Object.assign(new Error('Bad request'), { status: 400 })
    expect(failoverOf(thrown(bad), rules, true, now)).toBeUndefined()
  })

  it('ends the call on an error of the function itself, with no status and no code', () => {
    expect(failoverOf(thrown(new TypeError('x is undefined')), rules, true, now)).toBeUndefined()
  })

  it('follows failoverOn: only the statuses given, and no errors or refusals when turned off', () => {
    const only = resolvePool({
      targets: [{ name: 'a' }],
      failoverOn: { statuses: [529], errors: false, refusals: false },
    })
    if (only === false) throw new Error('pool is on')
    expect(failoverOf(answer(503), only.failover, true, now)).toBeUndefined()
    expect(failoverOf(answer(529), only.failover, true, now)?.reason).toBe('status 529')
    expect(failoverOf(thrown(netError('ECONNRESET')), only.failover, true, now)).toBeUndefined()
    expect(
      failoverOf(thrown(new CircuitOpenError('a', 1)), only.failover, true, now),
    ).toBeUndefined()
  })
})
