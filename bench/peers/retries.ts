import {
  ConsecutiveBreaker,
  circuitBreaker,
  ExponentialBackoff,
  handleAll,
  type IPolicy,
  retry,
  wrap,
} from 'cockatiel'
import pRetry from 'p-retry'
import { Agent, interceptors } from 'undici'
import { createFetch } from '../../src/index.js'
import { breakwaterClient, type Client, getText } from './client.js'

/** What every retrying subject of a scenario is given alike. */
export interface RetrySettings {
  /** Attempts in all, the first included. */
  readonly attempts: number
  /** ms, the first delay before any jitter; each later one doubles. */
  readonly baseDelay: number
  /** ms, the largest delay. */
  readonly maxDelay: number
}

/** A breaker as both breakwater and cockatiel take it. */
export interface BreakerSettings {
  /** Consecutive failures that open it. */
  readonly threshold: number
  /** ms it stays open before a probe goes through. */
  readonly halfOpenAfter: number
}

/**
 * breakwater with its retry stage, and its budget and breaker on or off, without a cache: the
 * calls of these scenarios are all distinct.
 */
export function breakwaterRetry(
  name: string,
  r: RetrySettings,
  guards: { readonly budget: boolean; readonly breaker: BreakerSettings | false },
): Client {
  const { breaker } = guards
  const fetch = createFetch({
    cache: false,
    retry: {
      maxAttempts: r.attempts,
      baseDelay: r.baseDelay,
      maxDelay: r.maxDelay,
      ...(guards.budget ? {} : { budget: false }),
    },
    breaker: breaker && {
      failureThreshold: breaker.threshold,
      halfOpenAfter: breaker.halfOpenAfter,
    },
  })
  const config =
    `createFetch({ cache: false, retry: { maxAttempts: ${r.attempts}, baseDelay: ${r.baseDelay}, ` +
    `maxDelay: ${r.maxDelay}${guards.budget ? '' : ', budget: false'} }, breaker: ${
      breaker
        ? `{ failureThreshold: ${breaker.threshold}, halfOpenAfter: ${breaker.halfOpenAfter} }`
        : 'false'
    } })${guards.budget ? ', default budget { ratio: 0.2, minPerSecond: 10 }' : ''}; full jitter`
  return breakwaterClient(name, fetch, config)
}

/** p-retry around a fetch that throws on a status ≥ 400, as its README shows. */
export function pRetryClient(r: RetrySettings): Client {
  const agent = new Agent()
  return {
    name: 'p-retry',
    role: 'peer',
    config:
      `pRetry(fetch-and-read, { retries: ${r.attempts - 1}, minTimeout: ${r.baseDelay}, ` +
      `maxTimeout: ${r.maxDelay}, factor: 2, randomize: true })`,
    get: async (url) => {
      await pRetry(() => getText(url, agent), {
        retries: r.attempts - 1,
        minTimeout: r.baseDelay,
        maxTimeout: r.maxDelay,
        factor: 2,
        randomize: true,
      })
    },
    close: () => agent.close(),
  }
}

/**
 * cockatiel's retry policy, alone or wrapped around its circuit breaker as its README combines
 * them (the breaker then counts attempts, and the retry policy also retries a broken circuit).
 */
export function cockatielClient(r: RetrySettings, breaker: BreakerSettings | false): Client {
  const agent = new Agent()
  // cockatiel's maxAttempts counts retries, not attempts.
  const retries = retry(handleAll, {
    maxAttempts: r.attempts - 1,
    backoff: new ExponentialBackoff({ initialDelay: r.baseDelay, maxDelay: r.maxDelay }),
  })
  const policy: IPolicy = breaker
    ? wrap(
        retries,
        circuitBreaker(handleAll, {
          halfOpenAfter: breaker.halfOpenAfter,
          breaker: new ConsecutiveBreaker(breaker.threshold),
        }),
      )
    : retries
  const retryText =
    `retry(handleAll, { maxAttempts: ${r.attempts - 1}, backoff: new ExponentialBackoff({ ` +
    `initialDelay: ${r.baseDelay}, maxDelay: ${r.maxDelay} }) })`
  return {
    name: breaker ? 'cockatiel retry+breaker' : 'cockatiel retry',
    role: 'peer',
    config: breaker
      ? `wrap(${retryText}, circuitBreaker(handleAll, { halfOpenAfter: ${breaker.halfOpenAfter}, ` +
        `breaker: new ConsecutiveBreaker(${breaker.threshold}) })); decorrelated jitter`
      : `${retryText}; decorrelated jitter`,
    get: async (url) => {
      await policy.execute(() => getText(url, agent))
    },
    close: () => agent.close(),
  }
}

/** undici's retry interceptor: retries 5xx, 429 and socket errors of idempotent requests. */
export function undiciRetryClient(r: RetrySettings): Client {
  const agent = new Agent()
  const dispatcher = agent.compose(
    interceptors.retry({
      maxRetries: r.attempts - 1,
      minTimeout: r.baseDelay,
      maxTimeout: r.maxDelay,
      timeoutFactor: 2,
    }),
  )
  return {
    name: 'undici retry',
    role: 'peer',
    config:
      `Agent.compose(interceptors.retry({ maxRetries: ${r.attempts - 1}, minTimeout: ${r.baseDelay}, ` +
      `maxTimeout: ${r.maxDelay}, timeoutFactor: 2 })); no jitter`,
    get: async (url) => {
      await getText(url, dispatcher)
    },
    close: () => agent.close(),
  }
}
