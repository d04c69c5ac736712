/**
 * What the three provider mocks share: scripted failures, slow answers, a per-minute token
 * quota enforced like a provider's (a token bucket, refilled continuously up to a minute's
 * worth), the mock's own token count, and server-sent events.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { delay, type Seen, startUpstream, type Upstream } from './upstream.js'

/**
 * One scripted answer to the next request: an error `status`, or without one the normal answer,
 * `latency` ms late (a slow model).
 */
export interface Fault {
  readonly status?: number
  readonly latency?: number
  readonly headers?: Record<string, string>
  /** JSON body; the provider's error shape for `status` when left out. */
  readonly body?: unknown
  /**
   * Events sent as a 200 event stream in place of the answer: an error inside a 200, or the
   * start of an answer that `stall` then leaves hanging.
   */
  readonly events?: readonly { event?: string; data: unknown }[]
  /** With `events`: send nothing more after them, and keep the stream open. */
  readonly stall?: boolean
}

/**
 * A provider's quota on one dimension, kept as tokens and a timestamp (on purpose unlike
 * breakwater's GCRA): `take` refuses what the bucket has not got, and counts the refusal.
 */
export class Quota {
  #tokens: number
  #last = performance.now()
  /** Calls the quota refused: each one a call that would have gone over it. */
  refused = 0
  /** Tokens taken in all, refunds deducted. */
  used = 0

  constructor(readonly perMinute: number) {
    this.#tokens = perMinute
  }

  remaining(): number {
    const now = performance.now()
    this.#tokens = Math.min(
      this.perMinute,
      this.#tokens + ((now - this.#last) * this.perMinute) / 60_000,
    )
    this.#last = now
    return this.#tokens
  }

  take(n: number): boolean {
    if (this.remaining() < n) {
      this.refused++
      return false
    }
    this.#tokens -= n
    this.used += n
    return true
  }

  give(n: number): void {
    this.remaining()
    this.#tokens = Math.min(this.perMinute, this.#tokens + n)
    this.used -= n
  }

  /** ms until `n` tokens are there. */
  waitFor(n: number): number {
    return Math.max(0, ((n - this.remaining()) * 60_000) / this.perMinute)
  }

  /** ms until the bucket is full again (the providers' `reset`). */
  untilFull(): number {
    return this.waitFor(this.perMinute)
  }
}

/**
 * Charges every quota its amount, or none: as at the providers, a call refused on one limit
 * costs nothing on another. Returns the first entry that refused (its refusal counted) and the
 * ms until it would not.
 */
export function chargeAll<T extends readonly [Quota | undefined, number, ...unknown[]]>(
  wanted: readonly T[],
): { refused: T; wait: number } | undefined {
  for (const entry of wanted) {
    const [quota, amount] = entry
    if (quota !== undefined && quota.remaining() < amount) {
      quota.take(amount)
      return { refused: entry, wait: quota.waitFor(amount) }
    }
  }
  for (const [quota, amount] of wanted) quota?.take(amount)
  return undefined
}

/** The mock's tokenizer: four characters of text to a token, rounded up. */
export function tokensOf(text: string): number {
  return Math.ceil(text.length / 4)
}

/**
 * Input tokens of a prompt: its text, plus 3 tokens of framing per message, as providers bill
 * (breakwater's estimate counts 4: an estimate should err on the side of the quota).
 */
export function inputTokensOf(prompt: Record<string, unknown>): number {
  let messages = 0
  for (const value of Object.values(prompt)) {
    if (Array.isArray(value)) messages += value.length
    else if (value !== undefined) messages += 1
  }
  return tokensOf(promptText(prompt)) + 3 * messages
}

/** Every string under the fields that hold text, joined: what the mock bills as input. */
export function promptText(value: unknown): string {
  if (typeof value === 'string') return value
  if (Array.isArray(value)) return value.map(promptText).join('')
  if (typeof value !== 'object' || value === null) return ''
  const o = value as Record<string, unknown>
  return [
    'text',
    'content',
    'parts',
    'system',
    'messages',
    'contents',
    'systemInstruction',
    'input',
  ]
    .map((k) => promptText(o[k]))
    .join('')
}

export interface LlmServer {
  readonly url: string
  readonly upstream: Upstream
  /** Every request received, in order. */
  readonly requests: Seen[]
  /** Answers the next requests with these, in order, before answering normally again. */
  script(...faults: Fault[]): void
  /** ms to wait before looking at each request (a slow network). */
  latency: number
  /** ms a call generates for, between being charged and answered (reservations overlap). */
  generation: number
  close(): Promise<void>
}

/** The normal handling of one request, once the faults and latency are past. */
export type Answer = (
  req: IncomingMessage,
  res: ServerResponse,
  seen: Seen,
  n: number,
) => Promise<void> | void

/** Starts a mock on 127.0.0.1:0 that serves scripted faults first, then `answer`. */
export async function startLlmServer(
  errorBody: (status: number) => unknown,
  answer: Answer,
): Promise<LlmServer> {
  const faults: Fault[] = []
  const server: LlmServer = {
    url: '',
    upstream: undefined as unknown as Upstream,
    requests: [],
    script: (...more) => {
      faults.push(...more)
    },
    latency: 0,
    generation: 0,
    close: () => upstream.close(),
  }
  const upstream = await startUpstream(async (req, res, seen, n) => {
    if (server.latency > 0) await delay(server.latency)
    const fault = faults.shift()
    if (fault?.latency !== undefined) await delay(fault.latency)
    if (fault?.events !== undefined) {
      await writeEvents(res, fault.events, fault.headers, 2, fault.stall !== true)
      return
    }
    if (fault?.status !== undefined) {
      res.writeHead(fault.status, { 'content-type': 'application/json', ...fault.headers })
      res.end(JSON.stringify(fault.body ?? errorBody(fault.status)))
      return
    }
    await answer(req, res, seen, n)
  })
  return Object.assign(server, { url: upstream.url, upstream, requests: upstream.requests })
}

/**
 * Writes `events` as server-sent events, one network write each, `gap` ms apart; `end: false`
 * leaves the stream open (a stall), to be ended when the server closes its connections.
 */
export async function writeEvents(
  res: ServerResponse,
  events: readonly { event?: string; data: unknown }[],
  headers: Record<string, string> = {},
  gap = 2,
  end = true,
): Promise<void> {
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    ...headers,
  })
  for (const { event, data } of events) {
    const payload = typeof data === 'string' ? data : JSON.stringify(data)
    res.write(`${event === undefined ? '' : `event: ${event}\n`}data: ${payload}\n\n`)
    await delay(gap)
  }
  if (end) res.end()
}

/** The reply of the mock's model: names the request it answers, so tests can tell answers apart. */
export function replyFor(n: number): string {
  return `Calm seas ahead, answer number ${n}.`
}

/** The reply cut into the pieces a stream sends. */
export function piecesOf(text: string): string[] {
  return text.match(/\S+\s*/g) ?? [text]
}
