/**
 * A stand-in for the Anthropic, OpenAI and Gemini APIs on 127.0.0.1, so that the examples run
 * with no key and no network. It answers each request with the next scripted failure, if any,
 * then with a fixed reply, as JSON or as the provider's event stream. Not part of breakwater:
 * an application points its SDK at the real API and leaves this file out.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface Failure {
  readonly status: number
  readonly headers?: Record<string, string>
  readonly body?: unknown
}

export interface MockApi {
  /** `http://127.0.0.1:PORT` */
  readonly url: string
  /** Answers the next requests with these, in order, before replying normally again. */
  script(...failures: Failure[]): void
  close(): Promise<void>
}

const reply = 'Hello from the mock, in five words.'
const usage = { input: 12, output: 8 }

export async function startMockApi(): Promise<MockApi> {
  const failures: Failure[] = []
  const server = createServer(async (req, res) => {
    const body = await textOf(req)
    const failure = failures.shift()
    if (failure !== undefined) {
      res.writeHead(failure.status, { 'content-type': 'application/json', ...failure.headers })
      res.end(JSON.stringify(failure.body ?? { error: { message: `mock ${failure.status}` } }))
      return
    }
    const params = (body === '' ? {} : JSON.parse(body)) as { stream?: boolean }
    const path = req.url ?? '/'
    if (path.startsWith('/v1/messages')) return anthropic(res, params.stream === true)
    if (path.startsWith('/v1/chat/completions')) return openai(res, params.stream === true)
    if (path.includes(':generateContent')) return json(res, gemini())
    if (path.includes(':streamGenerateContent')) return events(res, [{ data: gemini() }])
    res.writeHead(404).end()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    script: (...more) => {
      failures.push(...more)
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

function anthropic(res: ServerResponse, stream: boolean): void {
  const message = {
    id: 'msg_mock',
    type: 'message',
    role: 'assistant',
    model: 'claude-sonnet-4-6',
    content: [{ type: 'text', text: reply }],
    stop_reason: 'end_turn',
    stop_sequence: null,
    usage: { input_tokens: usage.input, output_tokens: usage.output },
  }
  if (!stream) {
    json(res, message)
    return
  }
  const start = { ...message, content: [], usage: { input_tokens: usage.input, output_tokens: 0 } }
  events(res, [
    { event: 'message_start', data: { type: 'message_start', message: start } },
    {
      event: 'content_block_start',
      data: { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
    },
    {
      event: 'content_block_delta',
      data: { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: reply } },
    },
    { event: 'content_block_stop', data: { type: 'content_block_stop', index: 0 } },
    {
      event: 'message_delta',
      data: {
        type: 'message_delta',
        delta: { stop_reason: 'end_turn', stop_sequence: null },
        usage: { output_tokens: usage.output },
      },
    },
    { event: 'message_stop', data: { type: 'message_stop' } },
  ])
}

function openai(res: ServerResponse, stream: boolean): void {
  const base = { id: 'chatcmpl-mock', created: 0, model: 'gpt-4.1-mini' }
  const tokens = {
    prompt_tokens: usage.input,
    completion_tokens: usage.output,
    total_tokens: usage.input + usage.output,
  }
  if (!stream) {
    const message = { role: 'assistant', content: reply, refusal: null }
    const choice = { index: 0, message, finish_reason: 'stop', logprobs: null }
    json(res, { ...base, object: 'chat.completion', choices: [choice], usage: tokens })
    return
  }
  const chunk = (delta: object, finish: string | null) => ({
    ...base,
    object: 'chat.completion.chunk',
    choices: [{ index: 0, delta, finish_reason: finish }],
  })
  events(res, [
    { data: chunk({ role: 'assistant', content: reply }, null) },
    { data: chunk({}, 'stop') },
    { data: { ...chunk({}, null), choices: [], usage: tokens } },
    { data: '[DONE]' },
  ])
}

function gemini(): object {
  return {
    candidates: [{ content: { role: 'model', parts: [{ text: reply }] }, finishReason: 'STOP' }],
    usageMetadata: {
      promptTokenCount: usage.input,
      candidatesTokenCount: usage.output,
      totalTokenCount: usage.input + usage.output,
    },
  }
}

function json(res: ServerResponse, value: unknown): void {
  res.writeHead(200, { 'content-type': 'application/json' })
  res.end(JSON.stringify(value))
}

function events(res: ServerResponse, list: { event?: string; data: unknown }[]): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' })
  for (const { event, data } of list) {
    const line = typeof data === 'string' ? data : JSON.stringify(data)
    res.write(`${event === undefined ? '' : `event: ${event}\n`}data: ${line}\n\n`)
  }
  res.end()
}

async function textOf(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}
