import { describe, expect, it } from 'vitest'
import {
  BadRecordError,
  RedisUnavailableError as Exported,
  isBadRecordError,
  isBreakwaterError,
  isRedisUnavailableError,
} from '../../src/index.js'
import { isRedisUnavailable, RedisUnavailableError } from '../../src/redis/redis-client.js'

describe('RedisUnavailableError', () => {
  it('is a BreakwaterError with a code of its own', () => {
    const error = new RedisUnavailableError('Redis did not answer within 50 ms')
    expect(isBreakwaterError(error)).toBe(true)
    expect(isRedisUnavailableError(error)).toBe(true)
    expect(error).toMatchObject({ name: 'RedisUnavailableError', code: 'REDIS_UNAVAILABLE' })
    expect(error.message).toBe('Redis did not answer within 50 ms')
  })

  it('is the one the package exports, and keeps its cause', () => {
    const cause = new Error('ECONNREFUSED')
    const error = new Exported('Redis failed: ECONNREFUSED', { cause })
    expect(error).toBeInstanceOf(RedisUnavailableError)
    expect(error.cause).toBe(cause)
  })

  it('is still known to isRedisUnavailable, as is one of an older copy by its code alone', () => {
    expect(isRedisUnavailable(new RedisUnavailableError('down'))).toBe(true)
    const older = Object.assign(new Error('down'), { code: 'REDIS_UNAVAILABLE' })
    expect(isRedisUnavailable(older)).toBe(true)
    expect(isRedisUnavailableError(older)).toBe(false)
  })

  it('is told apart from the other errors by its guard', () => {
    expect(isRedisUnavailableError(new BadRecordError('no record under its key'))).toBe(false)
    expect(isRedisUnavailableError(new Error('down'))).toBe(false)
  })
})

describe('BadRecordError', () => {
  it('is a BreakwaterError with a code of its own', () => {
    const error = new BadRecordError('a record whose outcome does not read back')
    expect(isBreakwaterError(error)).toBe(true)
    expect(isBadRecordError(error)).toBe(true)
    expect(error).toMatchObject({ name: 'BadRecordError', code: 'BAD_RECORD' })
  })
})
