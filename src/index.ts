export type { BreakerOptions } from './breaker/options.js'
export type { CacheOptions } from './cache/options.js'
export type { ConcurrencyOptions } from './concurrency/options.js'
export type { CacheMode, CallDetails, CallInfo } from './core/call.js'
export type { CallOptions } from './core/call-options.js'
export type { Clock, Timers } from './core/clock.js'
export {
  BadRecordError,
  BreakwaterError,
  type BreakwaterErrorCode,
  type BreakwaterErrorGuard,
  breakwaterErrorOf,
  CircuitOpenError,
  IdempotencyConflictError,
  IdempotencyUnknownOutcomeError,
  InvalidResponseError,
  isBadRecordError,
  isBreakwaterError,
  isCircuitOpenError,
  isIdempotencyConflictError,
  isIdempotencyUnknownOutcomeError,
  isInvalidResponseError,
  isRateLimitError,
  isRedisUnavailableError,
  isTimeoutError,
  RateLimitError,
  RedisUnavailableError,
  TimeoutError,
} from './core/errors.js'
export {
  type BreakerStateName,
  type BreakwaterEvent,
  type BreakwaterEventType,
  channelNames,
} from './core/events.js'
export type { HeaderPairs, HttpOutcome, Outcome, ValueOutcome } from './core/outcome.js'
export type { Stats } from './core/stats.js'
export {
  type BreakwaterFetch,
  type CreateFetchOptions,
  createFetch,
  type FetchCache,
} from './fetch.js'
export type { BreakwaterRequestInit } from './fetch-call.js'
// Also declares `breakwater` on the global RequestInit: SDKs' `fetchOptions` take it uncast.
export type { BreakwaterFetchOptions } from './fetch-options.js'
export type { IdempotencyOptions } from './idempotency/options.js'
export type { BreakwaterOptions } from './options.js'
export type {
  FailoverOptions,
  FetchTarget,
  PoolOptions,
  PoolTarget,
  WrapTarget,
} from './pool/options.js'
export type { RateLimitBucketOptions, ServerLimit } from './ratelimit/options.js'
export type { RedisL1Options, RedisOption, RedisOptions } from './redis/options.js'
export type {
  Backoff,
  Jitter,
  RetryBudgetOptions,
  RetryContext,
  RetryOptions,
} from './retry/options.js'
export type { StreamOptions } from './stream/options.js'
export type {
  StreamCommit,
  StreamEvent,
  StreamFailure,
  StreamVerdict,
} from './stream/verdict.js'
export type {
  FetchHeaders,
  FetchInit,
  FetchLike,
  ResponseLike,
} from './transport/fetch-transport.js'
export {
  type WrapCache,
  type WrapCallOptions,
  type WrapOptions,
  type Wrapped,
  wrap,
} from './wrap.js'
