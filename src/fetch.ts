import { Agent, Response as UndiciResponse, fetch as undiciFetch } from 'undici'
import { createInstance, type Instance } from './chain.js'
import type { Call } from './core/call.js'
import { type CallOptions, resolveCallOptions } from './core/call-options.js'
import { httpKey } from './core/key.js'
import type { HttpOutcome } from './core/outcome.js'
import type { Stats } from './core/stats.js'
import { func } from './core/validate.js'
import { type BreakwaterOptions, type ResolvedOptions, resolveOptions } from './options.js'
import { createFetchTransport, type FetchLike } from './transport/fetch-transport.js'

/** `createFetch` options: every breakwater option, plus the fetch to send through. */
export interface CreateFetchOptions extends BreakwaterOptions {
  /**
   * The fetch that sends each attempt. @default undici's `fetch` on an Agent of the
   * instance's own, which `close()` closes
   */
  fetch?: FetchLike
}

/** `RequestInit` plus breakwater's options for this one call. */
export type BreakwaterRequestInit = RequestInit & { breakwater?: CallOptions }

/** A fetch-compatible function with breakwater in front, plus its numbers and its shutdown. */
export interface BreakwaterFetch {
  (input: string | URL | Request, init?: BreakwaterRequestInit): Promise<Response>
  /** What this instance did so far. */
  stats(): Stats
  /**
   * Adds `delta` tokens to rate-limit bucket `name` under partition `key` (negative: a debt
   * that later calls wait out), e.g. to reconcile an estimated cost with the real one.
   */
  adjust(name: string, key: string, delta: number): void
  /** Waits for background refreshes, then closes the connections and stores it opened. */
  close(): Promise<void>
}

const idempotentMethods = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE'])
const safeMethods = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE'])

/**
 * A fetch with breakwater in front: cache, coalescing, breaker, retries, timeouts.
 *
 * @example
 * const fetch = createFetch({ cache: { ttl: 5_000 }, retry: { maxAttempts: 3 } })
 * const res = await fetch('https://api.example.com/items', { breakwater: { ttl: 60_000 } })
 */
export function createFetch(options: CreateFetchOptions = {}): BreakwaterFetch {
  const resolved = resolveOptions(options, ['fetch'])
  const given = func<FetchLike>('fetch', options.fetch)
  const agent = given === undefined ? new Agent() : undefined
  const send = given ?? (undiciFetch as unknown as FetchLike)
  const maxBodyBytes = resolved.cache ? resolved.cache.maxBodyBytes : Number.POSITIVE_INFINITY
  const instance = createInstance(
    resolved,
    (context) =>
      createFetchTransport({
        fetch: send,
        dispatcher: agent,
        counters: context.counters,
        maxBodyBytes,
      }),
    async () => agent?.close(),
  )
  const breakwaterFetch = async (input: string | URL | Request, init?: BreakwaterRequestInit) => {
    if (instance.closed) throw new TypeError('breakwater fetch used after close()')
    instance.context.counters.requests++
    const call = await toCall(resolved, instance, input, init)
    const outcome = await (call.retryable ? instance.run(call.call) : instance.runOnce(call.call))
    return toResponse(outcome as HttpOutcome)
  }
  return Object.assign(breakwaterFetch, {
    stats: () => instance.stats(),
    adjust: (name: string, key: string, delta: number) => instance.adjust(name, key, delta),
    close: () => instance.close(),
  }) as BreakwaterFetch
}

async function toCall(
  options: ResolvedOptions,
  instance: Instance,
  input: string | URL | Request,
  init: BreakwaterRequestInit | undefined,
): Promise<{ call: Call; retryable: boolean }> {
  const per = resolveCallOptions(init?.breakwater, options.rateLimit)
  const request = typeof input === 'string' || input instanceof URL ? undefined : input
  const url = new URL(request === undefined ? String(input) : request.url)
  const method = (init?.method ?? request?.method ?? 'GET').toUpperCase()
  const headers = new Headers(init?.headers ?? request?.headers)
  const signal = init?.signal ?? request?.signal ?? undefined
  signal?.throwIfAborted()
  const body = await bodyOf(init, request, method, headers)
  const eventStream = headers.get('accept')?.includes('text/event-stream') === true
  const noStore = headers.get('cache-control')?.includes('no-store') === true
  const cacheable =
    options.cache !== false &&
    per.cache &&
    options.cache.methods.has(method) &&
    (!eventStream || options.cache.streams === true) &&
    !noStore &&
    (options.cache.cacheable?.({
      method,
      url: url.href,
      origin: url.origin,
      headers,
      body,
      args: undefined,
    }) ??
      true)
  // With `cache.streams`, an event stream the cache may store is also one flight may share.
  const coalescible =
    options.coalesce &&
    per.coalesce &&
    (safeMethods.has(method) || cacheable) &&
    (!eventStream || cacheable)
  const deadlineMs = per.deadline ?? (options.retry ? options.retry.deadline : undefined)
  const idempotencyHeader = options.idempotency ? options.idempotency.header : 'idempotency-key'
  const idempotencyKey = per.idempotencyKey ?? headers.get(idempotencyHeader) ?? undefined
  const now = instance.context.clock.now()
  const call: Call = {
    kind: 'http',
    key: httpKey({
      method,
      url,
      headers,
      body,
      keyHeaders: options.cache ? options.cache.keyHeaders : [],
      custom: per.key,
    }),
    method,
    url: url.href,
    origin: url.origin,
    target: `${url.origin}${url.pathname}`,
    headers,
    body,
    args: undefined,
    signal,
    cacheable,
    coalescible,
    retry: idempotentMethods.has(method) || idempotencyKey !== undefined,
    ttl: per.ttl,
    timeout: per.timeout ?? options.timeout,
    deadline: deadlineMs === undefined ? undefined : now + deadlineMs,
    idempotencyKey,
    cost: per.cost,
  }
  return { call, retryable: per.retry }
}

/** Buffers the request body once, so that every attempt can send it and the key can hash it. */
async function bodyOf(
  init: BreakwaterRequestInit | undefined,
  request: Request | undefined,
  method: string,
  headers: Headers,
): Promise<Uint8Array | undefined> {
  const body = init?.body ?? undefined
  if (body === undefined || body === null) {
    if (request?.body == null) return undefined
    return new Uint8Array(await request.clone().arrayBuffer())
  }
  if (typeof body === 'string') return Buffer.from(body)
  if (body instanceof Uint8Array) return body
  if (body instanceof ArrayBuffer) return new Uint8Array(body)
  if (ArrayBuffer.isView(body)) return new Uint8Array(body.buffer, body.byteOffset, body.byteLength)
  // URLSearchParams, Blob, FormData, streams: let Request encode them and name their type.
  const encoded = new Request('http://localhost/', { method, body, duplex: 'half' } as RequestInit)
  const type = encoded.headers.get('content-type')
  if (type !== null && !headers.has('content-type')) headers.set('content-type', type)
  return new Uint8Array(await encoded.arrayBuffer())
}

/** A fresh Response per caller: two callers never share a body stream. */
export function toResponse(outcome: HttpOutcome): Response {
  const response = new UndiciResponse(
    outcome.body as ConstructorParameters<typeof UndiciResponse>[0],
    {
      status: outcome.status,
      statusText: outcome.statusText,
      headers: outcome.headers as [string, string][],
    },
  )
  // A constructed Response has no URL; SDKs and users read it, so give it the upstream one.
  Object.defineProperty(response, 'url', { value: outcome.url })
  return response as unknown as Response
}
