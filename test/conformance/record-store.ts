import { randomUUID } from 'node:crypto'
import { afterEach, describe, expect, it } from 'vitest'
import type {
  ClaimResult,
  RecordedOutcome,
  RecordStore,
} from '../../src/idempotency/record-store.js'
import { delay } from '../helpers/upstream.js'

/** A recorded 201, with a repeated header, as the transport would have buffered it. */
function httpRecord(body = '{"id":"ord_1"}'): RecordedOutcome {
  return {
    kind: 'http',
    status: 201,
    statusText: 'Created',
    headers: [
      ['content-type', 'application/json'],
      ['set-cookie', 'a=1'],
      ['set-cookie', 'b=2'],
    ],
    body: new TextEncoder().encode(body),
    url: 'http://127.0.0.1:1/orders',
  }
}

/** The body of a done claim, as text. */
function replayedBody(claim: ClaimResult): string {
  if (claim.status !== 'done' || claim.outcome.kind !== 'http' || claim.outcome.body === null) {
    throw new Error(`no recorded body: ${claim.status}`)
  }
  return new TextDecoder().decode(claim.outcome.body)
}

/** What became of `promise` within `ms`: 'resolved', 'rejected: <reason>' or 'pending'. */
async function within(promise: Promise<void>, ms: number): Promise<string> {
  const result = promise.then(
    () => 'resolved',
    (error: unknown) => `rejected: ${String(error)}`,
  )
  let timer: NodeJS.Timeout | undefined
  const pending = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve('pending'), ms)
  })
  return Promise.race([result, pending]).finally(() => clearTimeout(timer))
}

const day = 86_400_000
const lease = 30_000

/**
 * What every `RecordStore` must do, run against each implementation (memory, Redis, the
 * fallback over Redis). Record keys are fresh per test, so a store shared by many tests (one
 * Redis) never mixes them up.
 * Lease and TTL tests use real, short durations: a shared store keeps its own clock.
 */
export function recordStoreConformance(
  name: string,
  makeStore: () => RecordStore | Promise<RecordStore>,
): void {
  describe(`${name} (RecordStore conformance)`, () => {
    const stores: RecordStore[] = []
    afterEach(async () => {
      await Promise.all(stores.splice(0).map((s) => s.close()))
    })
    const open = async () => {
      const store = await makeStore()
      stores.push(store)
      return store
    }
    const fresh = () => `rec-${randomUUID()}`
    /** Claims a fresh record; fails the test unless the claim is granted. */
    const held = async (store: RecordStore, fingerprint = 'fp', leaseMs = lease, ttlMs = day) => {
      const key = fresh()
      const claim = await store.claim(key, fingerprint, leaseMs, ttlMs)
      if (claim.status !== 'claimed') throw new Error(`not claimed: ${claim.status}`)
      return { key, token: claim.token }
    }
    /** A fresh record claimed and marked sent: its holder's call has left. */
    const sent = async (store: RecordStore, fingerprint = 'fp', leaseMs = lease, ttlMs = day) => {
      const record = await held(store, fingerprint, leaseMs, ttlMs)
      if (!(await store.markSent(record.key, record.token))) throw new Error('not marked')
      return record
    }

    describe('claim, complete and release', () => {
      it('claims a free record, records its outcome and answers a repeat with it', async () => {
        const store = await open()
        const { key, token } = await held(store)
        expect(await store.complete(key, token, httpRecord(), day)).toBe(true)
        const repeat = await store.claim(key, 'fp', lease, day)
        expect(repeat).toEqual({
          status: 'done',
          outcome: httpRecord(),
          ttlLeft: expect.any(Number),
        })
        // What is left of the TTL, so that a copy of the record can end when the record does.
        if (repeat.status !== 'done') throw new Error(`not done: ${repeat.status}`)
        expect(repeat.ttlLeft).toBeGreaterThan(day - 60_000)
        expect(repeat.ttlLeft).toBeLessThanOrEqual(day)
      })

      it('records a wrapped function’s value', async () => {
        const store = await open()
        const { key, token } = await held(store)
        const value = { id: 'msg_1', content: [{ type: 'text', text: 'hi' }], n: 3 }
        await store.complete(key, token, { kind: 'value', value }, day)
        expect(await store.claim(key, 'fp', lease, day)).toMatchObject({
          status: 'done',
          outcome: { kind: 'value', value },
        })
      })

      it('hands every repeat a copy that no caller can change', async () => {
        const store = await open()
        const { key, token } = await held(store)
        const outcome = httpRecord('abc')
        await store.complete(key, token, outcome, day)
        if (outcome.kind === 'http') outcome.body?.fill(0)
        const first = await store.claim(key, 'fp', lease, day)
        if (first.status === 'done' && first.outcome.kind === 'http') first.outcome.body?.fill(0)
        expect(replayedBody(await store.claim(key, 'fp', lease, day))).toBe('abc')
      })

      it('answers a claim with another fingerprint with a conflict, in flight or done', async () => {
        const store = await open()
        const { key, token } = await held(store, 'fp-a')
        expect(await store.claim(key, 'fp-b', lease, day)).toEqual({ status: 'conflict' })
        await store.complete(key, token, httpRecord(), day)
        expect(await store.claim(key, 'fp-b', lease, day)).toEqual({ status: 'conflict' })
        expect((await store.claim(key, 'fp-a', lease, day)).status).toBe('done')
      })

      it('answers a claim of a record another caller holds with inFlight', async () => {
        const store = await open()
        const { key } = await held(store)
        expect(await store.claim(key, 'fp', lease, day)).toEqual({ status: 'inFlight' })
        expect((await store.claim(fresh(), 'fp', lease, day)).status).toBe('claimed')
      })

      it('lets a new claim in after a release, with a token of its own', async () => {
        const store = await open()
        const { key, token } = await held(store)
        expect(await store.release(key, token)).toBe(true)
        const again = await store.claim(key, 'fp-other', lease, day)
        expect(again.status).toBe('claimed')
        expect(again).not.toEqual({ status: 'claimed', token })
      })

      it('ignores renew, complete and release with a token that does not own the record', async () => {
        const store = await open()
        const { key, token } = await held(store)
        expect(await store.renew(key, 'not-the-token', lease)).toBe(false)
        expect(await store.markSent(key, 'not-the-token')).toBe(false)
        expect(await store.release(key, 'not-the-token')).toBe(false)
        expect(await store.complete(key, 'not-the-token', httpRecord(), day)).toBe(false)
        expect(await store.claim(key, 'fp', lease, day)).toEqual({ status: 'inFlight' })
        expect(await store.release(fresh(), token)).toBe(false)
        expect(await store.markSent(fresh(), token)).toBe(false)
      })
    })

    describe('leases and TTLs', () => {
      it('forgets a recorded outcome when its TTL ends', async () => {
        const store = await open()
        const { key, token } = await held(store)
        await store.complete(key, token, httpRecord(), 60)
        expect((await store.claim(key, 'fp-other', lease, day)).status).toBe('conflict')
        await delay(150)
        expect((await store.claim(key, 'fp-other', lease, day)).status).toBe('claimed')
      })

      it('lets another claimer take over when a lease ends, and the late finisher changes nothing', async () => {
        const store = await open()
        const stalled = await sent(store, 'fp', 60)
        await delay(150)
        const taken = await store.claim(stalled.key, 'fp', lease, day)
        if (taken.status !== 'claimed') throw new Error(`not claimed: ${taken.status}`)
        expect(taken.abandoned).toBe(true)
        expect(await store.markSent(stalled.key, stalled.token)).toBe(false)
        const late = httpRecord('late')
        expect(await store.complete(stalled.key, stalled.token, late, day)).toBe(false)
        expect(await store.release(stalled.key, stalled.token)).toBe(false)
        expect(await store.claim(stalled.key, 'fp', lease, day)).toEqual({ status: 'inFlight' })
        await store.complete(stalled.key, taken.token, httpRecord('current'), day)
        expect(replayedBody(await store.claim(stalled.key, 'fp', lease, day))).toBe('current')
      })

      it('leaves a sent record whose lease lapsed abandoned: the next claim takes it over and is told so', async () => {
        const store = await open()
        const { key } = await sent(store, 'fp', 60)
        await delay(150)
        expect(await store.claim(key, 'fp-other', lease, day)).toEqual({ status: 'conflict' })
        const taken = await store.claim(key, 'fp', lease, day)
        expect(taken).toEqual({ status: 'claimed', token: expect.any(String), abandoned: true })
        expect(await store.claim(key, 'fp', lease, day)).toEqual({ status: 'inFlight' })
        if (taken.status !== 'claimed') throw new Error('not claimed')
        await store.complete(key, taken.token, httpRecord('resent'), day)
        expect(replayedBody(await store.claim(key, 'fp', lease, day))).toBe('resent')
      })

      it('frees a record whose lease lapsed before it was marked sent: nothing is abandoned', async () => {
        const store = await open()
        const stalled = await held(store, 'fp', 60)
        await delay(150)
        const again = await store.claim(stalled.key, 'fp', lease, day)
        expect(again).toEqual({ status: 'claimed', token: expect.any(String) })
        // The holder that woke late has lost it: its mark and its outcome change nothing.
        expect(await store.markSent(stalled.key, stalled.token)).toBe(false)
        expect(await store.complete(stalled.key, stalled.token, httpRecord('late'), day)).toBe(
          false,
        )
        expect(await store.claim(stalled.key, 'fp', lease, day)).toEqual({ status: 'inFlight' })
      })

      it('keeps the lease a mark was made under, and marks once however often asked', async () => {
        const store = await open()
        const { key, token } = await held(store, 'fp', 200)
        expect(await store.markSent(key, token)).toBe(true)
        expect(await store.markSent(key, token)).toBe(true)
        expect(await store.claim(key, 'fp', lease, day)).toEqual({ status: 'inFlight' })
        await delay(400)
        expect(await store.claim(key, 'fp', lease, day)).toMatchObject({ abandoned: true })
      })

      it('leaves an abandoned record taken over abandoned again when the new lease lapses, unmarked', async () => {
        const store = await open()
        const { key } = await sent(store, 'fp', 60)
        await delay(150)
        const taken = await store.claim(key, 'fp', 60, day)
        expect(taken).toMatchObject({ status: 'claimed', abandoned: true })
        await delay(150)
        expect(await store.claim(key, 'fp', lease, day)).toMatchObject({ abandoned: true })
      })

      it('frees a released record cleanly: its next claim is told of no abandoned one', async () => {
        const store = await open()
        const { key, token } = await held(store, 'fp', 60)
        expect(await store.release(key, token)).toBe(true)
        await delay(150)
        const again = await store.claim(key, 'fp', lease, day)
        expect(again).toEqual({ status: 'claimed', token: expect.any(String) })
      })

      it('leaves the record abandoned again when the holder that took it over releases it', async () => {
        const store = await open()
        const { key } = await sent(store, 'fp', 60)
        await delay(150)
        const taken = await store.claim(key, 'fp', lease, day)
        if (taken.status !== 'claimed') throw new Error(`not claimed: ${taken.status}`)
        expect(await store.release(key, taken.token)).toBe(true)
        expect(await store.claim(key, 'fp-other', lease, day)).toEqual({ status: 'conflict' })
        expect(await store.claim(key, 'fp', lease, day)).toMatchObject({ abandoned: true })
      })

      it('keeps an abandoned record for the TTL its claim gave, then forgets it', async () => {
        const store = await open()
        const { key } = await sent(store, 'fp', 60, 100)
        await delay(400)
        const again = await store.claim(key, 'fp-other', lease, day)
        expect(again).toEqual({ status: 'claimed', token: expect.any(String) })
      })

      it('lets a holder whose lease lapsed finish while no one has taken it over', async () => {
        const store = await open()
        const stalled = await held(store, 'fp', 60)
        await delay(150)
        expect(await store.complete(stalled.key, stalled.token, httpRecord('late'), day)).toBe(true)
        expect(replayedBody(await store.claim(stalled.key, 'fp', lease, day))).toBe('late')
      })

      it('keeps a renewed lease past its first end', async () => {
        const store = await open()
        const { key, token } = await held(store, 'fp', 200)
        await delay(120)
        expect(await store.renew(key, token, 200)).toBe(true)
        await delay(120)
        expect(await store.claim(key, 'fp', lease, day)).toEqual({ status: 'inFlight' })
      })
    })

    describe('wait', () => {
      it('wakes a waiter when the holder completes', async () => {
        const store = await open()
        const { key, token } = await held(store)
        const waiting = store.wait(key, undefined)
        expect(await within(waiting, 30)).toBe('pending')
        await store.complete(key, token, httpRecord(), day)
        expect(await within(waiting, 1_000)).toBe('resolved')
        expect((await store.claim(key, 'fp', lease, day)).status).toBe('done')
      })

      it('wakes a waiter when the holder releases', async () => {
        const store = await open()
        const { key, token } = await held(store)
        const waiting = store.wait(key, undefined)
        expect(await within(waiting, 30)).toBe('pending')
        await store.release(key, token)
        expect(await within(waiting, 1_000)).toBe('resolved')
      })

      it('wakes a waiter when the holder’s lease ends, and not before', async () => {
        const store = await open()
        const { key } = await sent(store, 'fp', 100)
        const waiting = store.wait(key, undefined)
        expect(await within(waiting, 30)).toBe('pending')
        expect(await within(waiting, 1_000)).toBe('resolved')
        expect(await store.claim(key, 'fp', lease, day)).toMatchObject({
          status: 'claimed',
          abandoned: true,
        })
      })

      it('resolves at once when the record is not in flight', async () => {
        const store = await open()
        expect(await within(store.wait(fresh(), undefined), 30)).toBe('resolved')
      })

      it('rejects a waiter with the reason of its signal', async () => {
        const store = await open()
        const { key } = await held(store)
        const caller = new AbortController()
        const waiting = store.wait(key, caller.signal)
        caller.abort(new Error('caller left'))
        expect(await within(waiting, 30)).toBe('rejected: Error: caller left')
        const late = store.wait(key, caller.signal)
        expect(await within(late, 30)).toBe('rejected: Error: caller left')
      })
    })
  })
}
