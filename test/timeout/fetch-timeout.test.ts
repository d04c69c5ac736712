import type { ServerResponse } from 'node:http'
import { describe, expect, it } from 'vitest'
import { isTimeoutError } from '../../src/index.js'
import { delay, useUpstream } from '../helpers/upstream.js'

const { up, make } = useUpstream()

/** Writes `chunks` pieces `every` ms apart, stopping early when the client goes away. */
async function trickle(res: ServerResponse, chunks: string[], every: number): Promise<boolean> {
  for (const chunk of chunks) {
    if (res.destroyed) return false
    res.write(chunk)
    await delay(every)
  }
  res.end()
  return true
}

describe('createFetch timeout', () => {
  it('covers the read of a live body: a POST answer trickled past it fails with TimeoutError', async () => {
    let finished: Promise<boolean> = Promise.resolve(true)
    up.handle((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' })
      finished = trickle(
        res,
        Array.from({ length: 16 }, () => ' '),
        100,
      )
    })
    const fetch = make({ timeout: 500, retry: false })
    const res = await fetch(`${up.url}/slow`, { method: 'POST', body: '{}' })
    expect(res.status).toBe(200)
    const error = await res.text().catch((e: unknown) => e)
    expect(isTimeoutError(error), String(error)).toBe(true)
    expect(fetch.stats().timeouts).toBe(1)
    // The connection was let go, not read on to the end.
    expect(await finished).toBe(false)
  })

  it('leaves a live body that ends in time whole', async () => {
    up.handle((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' })
      void trickle(res, ['a', 'b', 'c'], 10)
    })
    const fetch = make({ timeout: 5_000, retry: false })
    const res = await fetch(`${up.url}/quick`, { method: 'POST', body: '{}' })
    expect(await res.text()).toBe('abc')
    expect(fetch.stats().timeouts).toBe(0)
  })

  it('does not time an event stream once its headers are in', async () => {
    up.handle((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      void trickle(res, ['data: 1\n\n', 'data: 2\n\n', 'data: 3\n\n', 'data: 4\n\n'], 150)
    })
    const fetch = make({ timeout: 200, retry: false })
    const res = await fetch(`${up.url}/events`, {
      method: 'POST',
      body: '{}',
      headers: { accept: 'text/event-stream' },
    })
    expect(await res.text()).toBe('data: 1\n\ndata: 2\n\ndata: 3\n\ndata: 4\n\n')
    expect(fetch.stats().timeouts).toBe(0)
  })
})
