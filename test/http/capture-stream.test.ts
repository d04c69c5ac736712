import { describe, expect, it } from 'vitest'
import { captureStream } from '../../src/http/capture-stream.js'

const encoder = new TextEncoder()
const streamOf = (...chunks: string[]) =>
  new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(encoder.encode(chunk))
      controller.close()
    },
  })
const text = (bytes: Uint8Array | undefined) =>
  bytes === undefined ? undefined : new TextDecoder().decode(bytes)

describe('captureStream', () => {
  it('passes every chunk on and hands over the whole body before the reader sees the end', async () => {
    let captured: Uint8Array | undefined
    const out = captureStream(streamOf('ab', 'cd', 'e'), 100, async (bytes) => {
      await new Promise((resolve) => setTimeout(resolve, 10))
      captured = bytes
    })
    expect(await new Response(out).text()).toBe('abcde')
    expect(text(captured)).toBe('abcde')
  })

  it('hands nothing over when the reader cancels', async () => {
    let calls = 0
    const out = captureStream(streamOf('ab', 'cd'), 100, () => {
      calls++
    })
    const reader = out.getReader()
    await reader.read()
    await reader.cancel()
    expect(calls).toBe(0)
  })

  it('hands nothing over past maxBytes, and still passes the body whole', async () => {
    let calls = 0
    const out = captureStream(streamOf('abc', 'def'), 4, () => {
      calls++
    })
    expect(await new Response(out).text()).toBe('abcdef')
    expect(calls).toBe(0)
  })

  it('hands nothing over when the upstream fails', async () => {
    let calls = 0
    const failing = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(encoder.encode('ab'))
        controller.error(new Error('reset'))
      },
    })
    const out = captureStream(failing, 100, () => {
      calls++
    })
    await expect(new Response(out).text()).rejects.toThrow('reset')
    expect(calls).toBe(0)
  })

  it('keeps the reader’s stream whole when the handler throws', async () => {
    const out = captureStream(streamOf('ok'), 100, () => {
      throw new Error('store down')
    })
    expect(await new Response(out).text()).toBe('ok')
  })
})
