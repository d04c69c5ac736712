import { canonicalJson } from '../core/key.js'
import { show } from '../core/validate.js'
import { type BreakwaterFetch, type CreateFetchOptions, createFetch } from '../fetch.js'
import type { BreakwaterOptions } from '../options.js'
import { undici } from '../transport/undici.js'
import { type Wrapped, wrap } from '../wrap.js'
import type { RunJob } from './backend.js'
import type { HttpJobResult, JobData, QueuedRequest } from './job.js'
import type { QueueOptions, ResolvedQueueOptions } from './options.js'
import { httpVerdict, JobVerdictError } from './verdict.js'

type Fn = (...args: never[]) => unknown
type Keyed = Wrapped<[key: string, args: unknown[]], unknown>
type Rule = 'resend' | 'fail'
/** A registered function, and the same under each rule for an abandoned record. */
type Registered = { readonly wrapped: Keyed } & Record<
  Rule,
  (key: string, args: unknown[]) => Promise<unknown>
>

/** Runs jobs through breakwater: one fetch for HTTP jobs, one `wrap` per registered function. */
export interface Runner {
  readonly run: RunJob
  readonly has: (name: string) => boolean
  /** Resolves once what the jobs run through is loaded: the worker starts then. */
  ready(): Promise<void>
  /** Closes what the runner made (never a fetch it was given). */
  close(): Promise<void>
}

// Methods whose repeat is harmless: they get no idempotency record, the cache may serve them.
const safe = new Set(['GET', 'HEAD', 'OPTIONS'])

/**
 * Builds the breakwater instances jobs run through, once, at construction: their options are
 * validated there. Each job's key goes with its call as the idempotency key, so that on a
 * shared Redis a re-run (after a crash, a lost lease) replays the recorded outcome. Under
 * `onUnknownOutcome: 'dead'` each call carries `unknownOutcome: 'fail'`, but for a job a person
 * sent back from the dead-letter list, which carries `'resend'`.
 */
export function createRunner(
  options: QueueOptions,
  {
    redis,
    lease,
    onUnknownOutcome,
  }: Pick<ResolvedQueueOptions, 'redis' | 'lease' | 'onUnknownOutcome'>,
): Runner {
  const shared: BreakwaterOptions = redis === undefined ? {} : { redis }
  const given = typeof options.fetch === 'function' ? options.fetch : undefined
  const fetchOptions = (given === undefined ? options.fetch : undefined) as
    | CreateFetchOptions
    | undefined
  const fetch: BreakwaterFetch =
    given ?? createFetch({ ...shared, ...queueDefaults(fetchOptions, lease) })
  const functions = new Map<string, Registered>()
  for (const [name, fn] of Object.entries(options.functions ?? {})) {
    if (typeof fn !== 'function') {
      throw new TypeError(`functions.${name} must be a function, got ${show(fn)}`)
    }
    const wrapped = keyedWrap(name, fn, { ...shared, ...queueDefaults(options.breakwater, lease) })
    functions.set(name, {
      wrapped,
      resend: wrapped.with({ unknownOutcome: 'resend' }),
      fail: wrapped.with({ unknownOutcome: 'fail' }),
    })
  }
  const headers = options.headers ?? {}
  // Unsaid under 'resend': the instance's own idempotency.unknownOutcome decides.
  const ruleOf = (data: JobData): Rule | undefined =>
    data.resend ? 'resend' : onUnknownOutcome === 'dead' ? 'fail' : undefined
  const run: RunJob = async (data, { signal }) => {
    const rule = ruleOf(data)
    if (data.kind === 'http') return runHttp(fetch, data, headers, signal, rule)
    const fn = functions.get(data.name)
    if (fn === undefined) {
      throw new JobVerdictError({ kind: 'dead', reason: `no function "${data.name}" registered` })
    }
    return (rule === undefined ? fn.wrapped : fn[rule])(data.key, [...data.args])
  }
  return {
    run,
    has: (name) => functions.has(name),
    // A fresh worker would otherwise load undici under its first jobs, whose tokens are taken
    // by then: they would all go at once when it is loaded, a burst a strict server refuses.
    ready: async () => {
      await undici()
    },
    async close() {
      await Promise.all([
        given === undefined ? fetch.close() : undefined,
        ...[...functions.values()].map((f) => f.wrapped.close()),
      ])
    },
  }
}

/**
 * The options of an instance the queue makes, with two defaults of its own unless given:
 * `retry.maxRetryAfter` 0, so that a server that asks for time gets it through the queue (the
 * job is put off, `paused`, and its worker takes the next one) instead of a worker sleeping it
 * out; and `idempotency.lease` the queue's `lease`, so that the key of a job whose worker died
 * is free when the job is taken up again, not half a minute later.
 */
function queueDefaults<T extends BreakwaterOptions>(options: T | undefined, lease: number): T {
  return {
    ...options,
    retry: withDefault(options?.retry, { maxRetryAfter: 0 }),
    idempotency: withDefault(options?.idempotency, { lease }),
  } as T
}

/** `given` over `defaults` when it is an object or absent; anything else (false, or a mistake
 * the instance will name) as it is. */
function withDefault(given: unknown, defaults: object): unknown {
  const plain = given === undefined || (typeof given === 'object' && given !== null)
  return plain ? { ...defaults, ...given } : given
}

function keyedWrap(name: string, fn: Fn, options: BreakwaterOptions): Keyed {
  return wrap((_key: string, args: unknown[]) => (fn as (...a: unknown[]) => unknown)(...args), {
    ...options,
    name,
    // The cache and coalescing see the arguments; the idempotency record sees the job.
    key: (_key, args) => canonicalJson(args),
    idempotencyKey: (key) => key,
  })
}

async function runHttp(
  fetch: BreakwaterFetch,
  { request, key }: { readonly request: QueuedRequest; readonly key: string },
  extra: Readonly<Record<string, string>>,
  signal: AbortSignal,
  unknownOutcome: Rule | undefined,
): Promise<HttpJobResult> {
  const method = request.method ?? 'GET'
  const keyed =
    unknownOutcome === undefined ? { idempotencyKey: key } : { idempotencyKey: key, unknownOutcome }
  const res = await fetch(request.url, {
    method,
    headers: { ...request.headers, ...extra },
    ...(request.body === undefined ? {} : { body: request.body }),
    signal,
    ...(safe.has(method) ? {} : { breakwater: keyed }),
  })
  const body = await res.text()
  if (res.status >= 400) {
    throw new JobVerdictError(
      httpVerdict(res.status, (n) => res.headers.get(n) ?? undefined, Date.now()),
    )
  }
  return {
    status: res.status,
    headers: Object.fromEntries(res.headers),
    body,
    replayed: res.headers.get('idempotent-replayed') === 'true',
  }
}

/** The job data of an HTTP job. */
export const httpJob = (request: QueuedRequest, key: string): JobData => ({
  kind: 'http',
  request,
  key,
})
