import {
  boolean,
  integer,
  isNonEmptyString,
  number,
  object,
  oneOf,
  show,
  timerMs,
} from '../core/validate.js'
import type { BreakwaterFetch, CreateFetchOptions } from '../fetch.js'
import type { BreakwaterOptions } from '../options.js'

/** Job-level retries, across minutes or hours, on top of each call's own quick retries. */
export interface QueueBackoff {
  /** `fixed`: `delay` each time; `exponential`: `delay`·2^(attempt−1). @default 'exponential' */
  type?: 'fixed' | 'exponential'
  /** ms before the first retry. @default 30_000 */
  delay?: number
  /** Share of each wait drawn at random, 0 to 1. @default 0.2 */
  jitter?: number
}

/** `createQueue` options. */
export interface QueueOptions {
  /** The queue's name: letters, digits, `-`, `_` and `.`. */
  name: string
  /**
   * Where the queue lives: a `redis://` URL makes it durable (BullMQ on Redis, shared by every
   * process on that Redis). Absent: in this process's memory, lost when it exits.
   */
  redis?: string
  /** Prefix of every BullMQ key. @default 'bwq' */
  prefix?: string
  /**
   * What sends HTTP jobs: a `createFetch` of your own (not closed by the queue), or options for
   * one the queue makes and closes. Give it `redis` and `idempotency` so that a job re-run after
   * a crash replays its recorded outcome. One the queue makes has `retry.maxRetryAfter` 0 (a
   * server's Retry-After puts the job off instead of holding its worker) and
   * `idempotency.lease` the queue's `lease`, unless given. @default createFetch with the
   * queue's `redis`
   */
  fetch?: BreakwaterFetch | CreateFetchOptions
  /**
   * Functions `call(name, args)` jobs may run, each put behind `wrap` with `breakwater` options
   * and the job's idempotency key.
   */
  functions?: Readonly<Record<string, (...args: never[]) => unknown>>
  /** breakwater options for the functions' `wrap`. @default the queue's `redis` */
  breakwater?: BreakwaterOptions
  /** Headers added to every HTTP job when it is sent, never stored (e.g. credentials). */
  headers?: Readonly<Record<string, string>>
  /** Run jobs in this process; `false` for a producer or an admin tool. @default true */
  worker?: boolean
  /** Jobs this process runs at once. @default 8 */
  concurrency?: number
  /** Attempts per job before it goes to the dead-letter list. @default 5 */
  attempts?: number
  backoff?: QueueBackoff
  /** Pauses (Retry-After, a full bucket) a job may take before they count as attempts. @default 50 */
  maxPauses?: number
  /**
   * ms a worker's hold on a job lasts unless renewed (renewed every half of it): a worker that
   * died lets its jobs run again within about 1.5 times this. @default 30_000
   */
  lease?: number
  /** Times a job may be taken up again after its worker died, before it is dead. @default 5 */
  maxStalls?: number
  /** ms a completed job (and its result) is kept. @default 86_400_000 (24 h) */
  keepCompleted?: number
  /**
   * What a job does when it is run again and finds that its call was sent by a worker that
   * died before its outcome was recorded (its idempotency record abandoned): `'resend'` sends
   * it again with the same key, which an upstream honouring `Idempotency-Key` applies once;
   * `'dead'` puts the job in the dead-letter list, its outcome unknown, for a person to check
   * the upstream and retry it (a retry from the dead-letter list sends it). Needs the shared
   * idempotency records of `redis`. @default 'resend'
   */
  onUnknownOutcome?: 'resend' | 'dead'
}

export interface ResolvedQueueOptions {
  readonly name: string
  readonly redis: string | undefined
  readonly prefix: string
  readonly worker: boolean
  readonly concurrency: number
  readonly attempts: number
  readonly backoff: Required<QueueBackoff>
  readonly maxPauses: number
  readonly lease: number
  readonly maxStalls: number
  readonly keepCompleted: number
  readonly headers: Readonly<Record<string, string>>
  readonly onUnknownOutcome: 'resend' | 'dead'
}

const known = [
  'name',
  'redis',
  'prefix',
  'fetch',
  'functions',
  'breakwater',
  'headers',
  'worker',
  'concurrency',
  'attempts',
  'backoff',
  'maxPauses',
  'lease',
  'maxStalls',
  'keepCompleted',
  'onUnknownOutcome',
]

const namePattern = /^[A-Za-z0-9._-]{1,100}$/

/** Validates the queue's own options once; `fetch`, `functions` and `breakwater` are the front door's. */
export function resolveQueueOptions(value: unknown): ResolvedQueueOptions {
  const o = object<QueueOptions>('createQueue options', value, known)
  if (typeof o.name !== 'string' || !namePattern.test(o.name)) {
    throw new TypeError(`name must be 1-100 letters, digits, "-", "_" or ".", got ${show(o.name)}`)
  }
  if (o.redis !== undefined && !(isNonEmptyString(o.redis) && /^rediss?:\/\//.test(o.redis))) {
    throw new TypeError(`redis must be a redis:// or rediss:// URL, got ${show(o.redis)}`)
  }
  if (o.prefix !== undefined && !(isNonEmptyString(o.prefix) && namePattern.test(o.prefix))) {
    throw new TypeError(
      `prefix must be 1-100 letters, digits, "-", "_" or ".", got ${show(o.prefix)}`,
    )
  }
  return {
    name: o.name,
    redis: o.redis,
    prefix: o.prefix ?? 'bwq',
    worker: boolean('worker', o.worker, true),
    concurrency: integer('concurrency', o.concurrency, 8, 1, 10_000),
    attempts: integer('attempts', o.attempts, 5, 1, 1_000),
    backoff: resolveBackoff(o.backoff),
    maxPauses: integer('maxPauses', o.maxPauses, 50, 0),
    lease: timerMs('lease', o.lease, 30_000, 100),
    maxStalls: integer('maxStalls', o.maxStalls, 5, 0, 1_000),
    keepCompleted: timerMs('keepCompleted', o.keepCompleted, 86_400_000, 1_000),
    headers: resolveHeaders(o.headers),
    onUnknownOutcome: oneOf('onUnknownOutcome', o.onUnknownOutcome, 'resend', [
      'resend',
      'dead',
    ] as const),
  }
}

function resolveBackoff(value: unknown): Required<QueueBackoff> {
  const o = object<QueueBackoff>('backoff', value ?? {}, ['type', 'delay', 'jitter'])
  const jitter = number('backoff.jitter', o.jitter, 0.2, 0)
  if (jitter > 1) throw new RangeError(`backoff.jitter must be at most 1, got ${show(o.jitter)}`)
  return {
    type: oneOf('backoff.type', o.type, 'exponential', ['fixed', 'exponential'] as const),
    delay: timerMs('backoff.delay', o.delay, 30_000),
    jitter,
  }
}

function resolveHeaders(value: unknown): Readonly<Record<string, string>> {
  if (value === undefined) return {}
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TypeError(`headers must be a plain object, got ${show(value)}`)
  }
  for (const [name, v] of Object.entries(value)) {
    if (typeof v !== 'string')
      throw new TypeError(`headers.${name} must be a string, got ${show(v)}`)
  }
  return value as Record<string, string>
}

/** ms before attempt `made + 1` after `made` failed attempts: pure, `random` from the caller. */
export function backoffDelay(
  backoff: Required<QueueBackoff>,
  made: number,
  random: number,
): number {
  const base = backoff.type === 'fixed' ? backoff.delay : backoff.delay * 2 ** Math.max(0, made - 1)
  return Math.round(base * (1 - backoff.jitter * random))
}
