import { describe, expect, it } from 'vitest'
import * as errors from '../../src/core/errors.js'
import {
  BreakwaterError,
  breakwaterErrorOf,
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
} from '../../src/core/errors.js'

type ErrorsModule = typeof errors

/** The module loaded a second time: a module instance, and classes, of its own. */
async function secondCopy(): Promise<ErrorsModule> {
  // vitest loads a file again under another query string. Held in a variable so that tsc, which
  // knows no such file, leaves the import alone.
  const second = '../../src/core/errors.ts?copy'
  return (await import(second)) as ErrorsModule
}

/** Every class the module exports that is, or extends, its BreakwaterError, by export name. */
function classesOf(m: ErrorsModule): Array<[string, new (...args: unknown[]) => BreakwaterError]> {
  return Object.entries(m).flatMap(([name, value]) =>
    typeof value === 'function' &&
    (value === m.BreakwaterError || value.prototype instanceof m.BreakwaterError)
      ? [[name, value as new (...args: unknown[]) => BreakwaterError]]
      : [],
  )
}

/** The module's `is<Name>` guard of a class, if it has one. */
function guardOf(m: ErrorsModule, name: string): ((error: unknown) => boolean) | undefined {
  const guard: unknown = (m as Record<string, unknown>)[`is${name}`]
  return typeof guard === 'function' ? (guard as (error: unknown) => boolean) : undefined
}

/** One error of each class, made with the given copy of the module. */
function oneOfEach(m: ErrorsModule) {
  return {
    base: new m.BreakwaterError('TIMEOUT', 'plain'),
    circuit: new m.CircuitOpenError('https://api.test', 250),
    rate: new m.RateLimitError('budget rpm refused the call', 1_000),
    conflict: new m.IdempotencyConflictError('key reused'),
    timeout: new m.TimeoutError(5_000, 'call'),
    invalid: new m.InvalidResponseError(699, 'Odd', [['x-a', '1']], 'https://api.test/v1'),
  }
}

describe('BreakwaterError', () => {
  it('carries its code, its name, the cause it was given and no attempts yet', () => {
    const cause = new Error('socket hang up')
    const error = new BreakwaterError('TIMEOUT', 'gave up', { cause })
    expect(error).toBeInstanceOf(Error)
    expect(error).toMatchObject({ code: 'TIMEOUT', name: 'BreakwaterError', attempts: 0 })
    expect(error.message).toBe('gave up')
    expect(error.cause).toBe(cause)
    expect(new BreakwaterError('TIMEOUT', 'no cause')).not.toHaveProperty('cause')
  })

  it('keeps its brand out of sight of enumeration and JSON', () => {
    const error = new BreakwaterError('RATE_LIMITED', 'x')
    expect(JSON.stringify(error)).toBe(
      '{"name":"BreakwaterError","code":"RATE_LIMITED","attempts":0}',
    )
    expect(Object.getOwnPropertySymbols(error)).toEqual([Symbol.for('breakwater.error')])
    expect(Object.getOwnPropertyDescriptor(error, Symbol.for('breakwater.error'))).toMatchObject({
      enumerable: false,
    })
  })
})

describe('the error classes', () => {
  const made = oneOfEach(errors)

  it('give each error its code, its name and its own fields', () => {
    expect(made.circuit).toMatchObject({
      code: 'CIRCUIT_OPEN',
      name: 'CircuitOpenError',
      scope: 'https://api.test',
      retryAfter: 250,
      message: 'circuit open for https://api.test; next probe in 250 ms',
    })
    expect(made.rate).toMatchObject({
      code: 'RATE_LIMITED',
      name: 'RateLimitError',
      retryAfter: 1_000,
      message: 'budget rpm refused the call',
    })
    expect(made.conflict).toMatchObject({
      code: 'IDEMPOTENCY_CONFLICT',
      name: 'IdempotencyConflictError',
      message: 'key reused',
    })
    expect(made.timeout).toMatchObject({
      code: 'TIMEOUT',
      name: 'TimeoutError',
      timeout: 5_000,
      message: 'call timed out after 5000 ms',
    })
    expect(new TimeoutError(10).message).toBe('attempt timed out after 10 ms')
    expect(made.invalid).toMatchObject({
      code: 'INVALID_RESPONSE',
      name: 'InvalidResponseError',
      status: 699,
      statusText: 'Odd',
      headers: [['x-a', '1']],
      message: 'https://api.test/v1 answered with status 699, which no Response can hold',
    })
  })

  it('are BreakwaterErrors and Errors, with a stack, and no cause of their own', () => {
    for (const error of Object.values(made)) {
      expect(error).toBeInstanceOf(BreakwaterError)
      expect(error).toBeInstanceOf(Error)
      expect(error.stack).toContain(error.name)
      // None of them wraps another error: what they report is breakwater's own decision.
      expect(error.cause).toBeUndefined()
    }
  })

  it('are told apart by their guards, each true for its class alone', () => {
    const guards = {
      circuit: isCircuitOpenError,
      rate: isRateLimitError,
      conflict: isIdempotencyConflictError,
      timeout: isTimeoutError,
      invalid: isInvalidResponseError,
    }
    for (const [kind, error] of Object.entries(made)) {
      expect(isBreakwaterError(error)).toBe(true)
      for (const [guarded, guard] of Object.entries(guards)) {
        // The base error above was made with code TIMEOUT: the guards go by code.
        const expected = guarded === kind || (kind === 'base' && guarded === 'timeout')
        expect(guard(error), `${guarded} guard on ${kind}`).toBe(expected)
      }
    }
  })
})

describe('the isXError guards', () => {
  it('recognise errors from a second copy of the module', async () => {
    const copy = await secondCopy()
    expect(copy.CircuitOpenError).not.toBe(CircuitOpenError)
    expect(copy.BreakwaterError).not.toBe(BreakwaterError)
    const foreign = oneOfEach(copy)
    expect(foreign.circuit).not.toBeInstanceOf(BreakwaterError)
    expect(isBreakwaterError(foreign.base)).toBe(true)
    expect(isCircuitOpenError(foreign.circuit)).toBe(true)
    expect(isRateLimitError(foreign.rate)).toBe(true)
    expect(isIdempotencyConflictError(foreign.conflict)).toBe(true)
    expect(isTimeoutError(foreign.timeout)).toBe(true)
    expect(isInvalidResponseError(foreign.invalid)).toBe(true)
    // And the other way round: the copy's guards know this copy's errors.
    expect(copy.isRateLimitError(new RateLimitError('x', 1))).toBe(true)
    expect(copy.isIdempotencyConflictError(new IdempotencyConflictError('x'))).toBe(true)
    expect(copy.isInvalidResponseError(new InvalidResponseError(1, '', [], 't'))).toBe(true)
  })

  it('exist for every exported error class, each knowing its class alone, from either copy', async () => {
    const copy = await secondCopy()
    const classes = classesOf(errors).filter(([name]) => name !== 'BreakwaterError')
    expect(classes.map(([name]) => name)).toEqual(
      expect.arrayContaining(['CircuitOpenError', 'RateLimitError', 'TimeoutError']),
    )
    const codes = new Set<string>()
    for (const [name, Class] of classes) {
      // Constructors only copy their arguments: made without any, each still has its identity.
      const [error, foreign] = [
        new Class(),
        new (copy[name as keyof ErrorsModule] as typeof Class)(),
      ]
      expect(error.name).toBe(name)
      expect(foreign).not.toBeInstanceOf(Class)
      codes.add(error.code)
      for (const [other] of classes) {
        const guard = guardOf(errors, other)
        expect(guard, `is${other}`).toBeDefined()
        expect(guard?.(error), `is${other} on a ${name}`).toBe(other === name)
        expect(guard?.(foreign), `is${other} on another copy's ${name}`).toBe(other === name)
      }
    }
    // One code per class: the guards go by code, so two classes sharing one would be one.
    expect(codes.size).toBe(classes.length)
  })

  it('say false for look-alikes without the brand', () => {
    const named = Object.assign(new Error('circuit open'), {
      name: 'CircuitOpenError',
      code: 'CIRCUIT_OPEN',
      scope: 'https://api.test',
      retryAfter: 1,
    })
    const plain = { code: 'RATE_LIMITED', name: 'RateLimitError', message: 'x', retryAfter: 1 }
    const branded = Object.assign(new Error('x'), { [Symbol('breakwater.error')]: true })
    for (const lookAlike of [named, plain, branded, null, undefined, 'TIMEOUT', 42]) {
      expect(isBreakwaterError(lookAlike)).toBe(false)
      expect(isCircuitOpenError(lookAlike)).toBe(false)
      expect(isRateLimitError(lookAlike)).toBe(false)
      expect(isTimeoutError(lookAlike)).toBe(false)
    }
  })

  it('say false for a branded error whose code is another', () => {
    const error = new RateLimitError('x', 1)
    expect(isCircuitOpenError(error)).toBe(false)
    expect(isTimeoutError(error)).toBe(false)
    expect(isIdempotencyConflictError(error)).toBe(false)
    expect(isInvalidResponseError(error)).toBe(false)
  })
})

describe('breakwaterErrorOf and the guards on cause chains', () => {
  /** An error wrapping `cause` as an SDK does: its own class, breakwater's error as `cause`. */
  const wrapped = (cause: unknown, levels = 1): unknown => {
    let error = cause
    for (let i = 0; i < levels; i++) error = new Error('Connection error.', { cause: error })
    return error
  }

  it('finds breakwater’s error down the cause chain, from either copy', async () => {
    const copy = await secondCopy()
    const refusal = new RateLimitError('budget', 1_500)
    const foreign = new copy.CircuitOpenError('https://api.test', 100)
    expect(breakwaterErrorOf(wrapped(refusal))).toBe(refusal)
    expect(breakwaterErrorOf(wrapped(foreign, 3))).toBe(foreign)
    expect(isRateLimitError(wrapped(refusal, 2))).toBe(true)
    expect(isCircuitOpenError(wrapped(refusal, 2))).toBe(false)
    expect(isCircuitOpenError(wrapped(foreign))).toBe(true)
    expect(copy.isRateLimitError(wrapped(refusal))).toBe(true)
  })

  it('answers for the outermost breakwater error: the one that ended the call', () => {
    const inner = new RateLimitError('budget', 1)
    const outer = new TimeoutError(100, 'call')
    Object.defineProperty(outer, 'cause', { value: inner })
    expect(breakwaterErrorOf(wrapped(outer))).toBe(outer)
    expect(isTimeoutError(wrapped(outer))).toBe(true)
    expect(isRateLimitError(wrapped(outer))).toBe(false)
  })

  it('stops at 8 levels, on a cycle and on a throwing cause, without throwing', () => {
    const refusal = new RateLimitError('budget', 1)
    expect(breakwaterErrorOf(wrapped(refusal, 8))).toBe(refusal)
    expect(breakwaterErrorOf(wrapped(refusal, 9))).toBeUndefined()
    const a = new Error('a')
    const b = new Error('b', { cause: a })
    Object.defineProperty(a, 'cause', { value: b })
    expect(breakwaterErrorOf(a)).toBeUndefined()
    const trap = Object.defineProperty(new Error('trap'), 'cause', {
      get() {
        throw new Error('no')
      },
    })
    expect(breakwaterErrorOf(trap)).toBeUndefined()
    expect(isRateLimitError(trap)).toBe(false)
    for (const value of [null, undefined, 'x', 42, { cause: 'RATE_LIMITED' }]) {
      expect(breakwaterErrorOf(value)).toBeUndefined()
    }
  })

  it('narrows breakwater’s own error to its class', () => {
    const found = breakwaterErrorOf(wrapped(new RateLimitError('budget', 1_500)))
    // Typed: `found` is BreakwaterError | undefined, narrowed to RateLimitError here.
    const wait: number | undefined = isRateLimitError(found) ? found.retryAfter : undefined
    expect(wait).toBe(1_500)
  })
})
