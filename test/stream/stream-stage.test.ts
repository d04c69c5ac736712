import type { ServerResponse } from 'node:http'
import { describe, expect, it } from 'vitest'
import { TimeoutError } from '../../src/index.js'
import { createManualTime, flushMicrotasks } from '../helpers/manual-time.js'
import { delay, useUpstream } from '../helpers/upstream.js'

const sse = { 'content-type': 'text/event-stream' }
const errorEvent = 'event: error\ndata: {"error":{"code":503,"message":"busy"}}\n\n'
const content = (n: number) =>
  `data: {"n":${n},"text":"part one"}\n\ndata: {"n":${n},"text":"part two"}\n\n`

/** Answers each request with the next of `bodies`, written in one piece, as an event stream. */
function streams(...bodies: string[]) {
  return (_req: unknown, res: ServerResponse, _seen: unknown, n: number) => {
    res.writeHead(200, sse)
    res.end(bodies[n] ?? content(n))
  }
}

const post = { method: 'POST', body: '{}', headers: { accept: 'text/event-stream' } }

describe('the stream stage through createFetch', () => {
  const { up, make } = useUpstream()
  const retry = { baseDelay: 1, maxDelay: 1 }

  it('retries an error event before content; the caller gets the retry byte for byte', async () => {
    up.handle(streams(errorEvent))
    const fetch = make({ streamCommit: true, retry })
    const res = await fetch(`${up.url}/v1/stream`, post)
    expect(res.status).toBe(200)
    expect(await res.text()).toBe(content(1))
    expect(up.requests).toHaveLength(2)
    expect(fetch.stats()).toMatchObject({ retries: 1, streamErrors: 1 })
  })

  it('fails on an error that comes before content in the same chunk', async () => {
    up.handle(streams(`${errorEvent}${content(0)}`))
    const fetch = make({ streamCommit: true, retry })
    expect(await (await fetch(`${up.url}/s`, post)).text()).toBe(content(1))
    expect(up.requests).toHaveLength(2)
  })

  it('commits on content that comes before an error in the same chunk, error included', async () => {
    up.handle(streams(`${content(0)}${errorEvent}`))
    const fetch = make({ streamCommit: true, retry })
    expect(await (await fetch(`${up.url}/s`, post)).text()).toBe(`${content(0)}${errorEvent}`)
    expect(up.requests).toHaveLength(1)
  })

  it('answers the status of the error, as JSON, when the retries run out', async () => {
    up.handle(streams(errorEvent, errorEvent))
    const fetch = make({ streamCommit: true, retry: { ...retry, maxAttempts: 2 } })
    const res = await fetch(`${up.url}/s`, post)
    expect(res.status).toBe(503)
    expect(res.headers.get('content-type')).toBe('application/json')
    expect(res.headers.get('x-breakwater-stream-error')).toBe('true')
    expect(await res.json()).toEqual({ error: { code: 503, message: 'busy' } })
    expect(fetch.stats().giveUps).toBe(1)
  })

  it('takes a stream that ends before its content for a truncated answer: 502, retried', async () => {
    up.handle(streams(': just a comment\n\n', ': again\n\n'))
    const fetch = make({ streamCommit: true, retry: { ...retry, maxAttempts: 2 } })
    const res = await fetch(`${up.url}/s`, post)
    expect(res.status).toBe(502)
    expect(up.requests).toHaveLength(2)
    expect(fetch.stats().streamErrors).toBe(2)
    await res.body?.cancel()
  })

  it('holds what the rule holds, then hands it on with the content', async () => {
    const ping = 'event: ping\ndata: {}\n\n'
    up.handle(streams(`${ping}${errorEvent}`, `${ping}${content(1)}`))
    const fetch = make({
      streamCommit: (event) =>
        event.event === 'ping'
          ? 'hold'
          : event.event === 'error'
            ? { status: 503, body: {} }
            : 'commit',
      retry,
    })
    expect(await (await fetch(`${up.url}/s`, post)).text()).toBe(`${ping}${content(1)}`)
  })

  it('passes bytes on as they arrive once committed, nothing buffered', async () => {
    let more: () => void = () => {}
    const written = new Promise<void>((resolve) => {
      more = resolve
    })
    up.handle(async (_req, res) => {
      res.writeHead(200, sse)
      res.write('data: first\n\n')
      await written
      res.end('data: second\n\n')
    })
    const fetch = make({ streamCommit: true })
    const res = await fetch(`${up.url}/s`, post)
    const reader = (res.body as ReadableStream<Uint8Array>).getReader()
    const decoder = new TextDecoder()
    expect(decoder.decode((await reader.read()).value)).toBe('data: first\n\n')
    more()
    expect(decoder.decode((await reader.read()).value)).toBe('data: second\n\n')
    expect((await reader.read()).done).toBe(true)
  })

  it('leaves answers that are not 2xx event streams alone', async () => {
    up.handle((_req, res, _seen, n) => {
      res.writeHead(n === 0 ? 200 : 500, { 'content-type': 'application/json' })
      res.end('{"type":"error"}')
    })
    const fetch = make({ streamCommit: true, retry: false })
    expect(await (await fetch(`${up.url}/json`, post)).text()).toBe('{"type":"error"}')
    expect((await fetch(`${up.url}/json`, post)).status).toBe(500)
  })

  it('rejects the call with a TypeError when the rule answers nonsense', async () => {
    up.handle(streams(content(0)))
    const fetch = make({ streamCommit: () => 'maybe' as never, retry: false })
    await expect(fetch(`${up.url}/s`, post)).rejects.toThrow(
      /streamCommit must return 'commit', 'hold' or \{ status: 400 to 599, body \}, got "maybe"/,
    )
  })

  it("rejects with the caller's reason on an abort before the commit, and ends the upstream", async () => {
    let closed = false
    up.handle((req, res) => {
      res.writeHead(200, sse)
      res.write(': waiting\n\n')
      req.socket.on('close', () => {
        closed = true
      })
    })
    const fetch = make({ streamCommit: true })
    const controller = new AbortController()
    const pending = fetch(`${up.url}/s`, { ...post, signal: controller.signal })
    while (up.requests.length === 0) await delay(2)
    await delay(10)
    const reason = new Error('caller left')
    controller.abort(reason)
    await expect(pending).rejects.toBe(reason)
    for (let i = 0; i < 100 && !closed; i++) await delay(5)
    expect(closed).toBe(true)
  })
})

describe('streamIdleTimeout through createFetch', () => {
  const { up, make } = useUpstream()

  async function until(ready: () => boolean) {
    for (let i = 0; i < 500 && !ready(); i++) {
      await flushMicrotasks()
      await delay(2)
    }
    expect(ready()).toBe(true)
  }

  it('errors the stream with TimeoutError after a silence, without streamCommit', async () => {
    const time = createManualTime()
    up.handle((_req, res) => {
      res.writeHead(200, sse)
      res.write('data: only\n\n')
    })
    const fetch = make({ streamIdleTimeout: 1_000, timeout: 0, clock: time, timers: time })
    const res = await fetch(`${up.url}/s`, post)
    const reader = (res.body as ReadableStream<Uint8Array>).getReader()
    expect((await reader.read()).done).toBe(false)
    const next = reader.read().catch((e: unknown) => e)
    await until(() => time.pending === 1)
    await time.advance(999)
    expect(time.pending).toBe(1)
    await time.advance(1)
    const error = await next
    expect(error).toBeInstanceOf(TimeoutError)
    expect((error as Error).message).toBe('event stream (no byte) timed out after 1000 ms')
    expect(fetch.stats().timeouts).toBe(1)
  })

  it('retries a silence before the commit; the caller gets the retry', async () => {
    const time = createManualTime()
    up.handle((_req, res, _seen, n) => {
      res.writeHead(200, sse)
      if (n === 0) res.write(': thinking\n\n')
      else res.end(content(n))
    })
    const fetch = make({
      streamCommit: true,
      streamIdleTimeout: 1_000,
      timeout: 0,
      retry: { baseDelay: 5, maxDelay: 5, jitter: 'none' },
      clock: time,
      timers: time,
    })
    const pending = fetch(`${up.url}/s`, post)
    await until(() => up.requests.length === 1 && time.pending === 1)
    await time.advance(1_000)
    await until(() => time.pending === 1)
    await time.advance(5)
    expect(await (await pending).text()).toBe(content(1))
    expect(fetch.stats()).toMatchObject({ retries: 1, timeouts: 1 })
  })
})
