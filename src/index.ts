export type { CacheOptions } from './cache-options.js'
export type { CallOptions } from './call-options.js'
export type { Clock } from './clock.js'
export {
  BreakwaterError,
  type BreakwaterErrorCode,
  CircuitOpenError,
  IdempotencyConflictError,
  InvalidResponseError,
  isBreakwaterError,
  isCircuitOpenError,
  isIdempotencyConflictError,
  isInvalidResponseError,
  isRateLimitError,
  isTimeoutError,
  RateLimitError,
  TimeoutError,
} from './errors.js'
export {
  type BreakerStateName,
  type BreakwaterEvent,
  type BreakwaterEventType,
  channelNames,
} from './events.js'
export {
  type BreakwaterFetch,
  type BreakwaterRequestInit,
  type CreateFetchOptions,
  createFetch,
} from './fetch.js'
export type { BreakwaterOptions, CallInfo } from './options.js'
export type {
  CallDetails,
  ConcurrencyOptions,
  IdempotencyOptions,
  RateLimitBucketOptions,
  ServerLimit,
} from './quota-options.js'
export type { RedisL1Options, RedisOption, RedisOptions } from './redis/redis-options.js'
export type {
  Backoff,
  BreakerOptions,
  Jitter,
  RetryBudgetOptions,
  RetryContext,
  RetryOptions,
} from './retry-options.js'
export type { Stats } from './stats.js'
export type { FetchInit, FetchLike, ResponseLike } from './transport/fetch-transport.js'
export { type WrapOptions, type Wrapped, wrap } from './wrap.js'
