import { describe, it } from 'vitest'
import { memory } from '../../bench/chaos/scenarios/memory.js'
import { useChaos } from '../helpers/chaos.js'

describe('calls with ever new keys', () => {
  const chaos = useChaos(memory, 0.1)

  it('keep the heap flat through coalescing and attempt timeouts', () =>
    chaos.holds('heap growth, in-flight calls'))
  it('keep the heap flat once the cache is full', () => chaos.holds('heap growth, cache entries'))
  it('keep the heap flat once the records are full', () =>
    chaos.holds('heap growth, idempotency records'))
  it('keep the heap flat over ever new bucket keys', () =>
    chaos.holds('heap growth, rate-limit buckets'))
  it('keep the heap flat over ever new breaker scopes', () =>
    chaos.holds('heap growth, breaker scopes'))
})
