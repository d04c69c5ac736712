import { describe, expect, it } from 'vitest'
import { FrequencySketch, hashKey, sampleSizeFor } from '../../src/cache/frequency-sketch.js'

describe('FrequencySketch', () => {
  it('counts a key once past the doorkeeper, up to 4 bits', () => {
    const sketch = new FrequencySketch(1_000)
    const h = hashKey('/items/1')
    expect(sketch.estimate(h)).toBe(0)
    sketch.record(h)
    expect(sketch.estimate(h)).toBe(1)
    for (let i = 0; i < 5; i++) sketch.record(h)
    expect(sketch.estimate(h)).toBe(6)
    for (let i = 0; i < 40; i++) sketch.record(h)
    expect(sketch.estimate(h)).toBe(16)
  })

  it('tells frequent keys from rare ones among many, within one sample period', () => {
    const sketch = new FrequencySketch(100)
    for (let round = 0; round < 10; round++) {
      for (let k = 0; k < 900; k++) sketch.record(hashKey(`/cold/${round}/${k}`))
      for (let k = 0; k < 20; k++) sketch.record(hashKey(`/hot/${k}`))
    }
    for (let k = 0; k < 20; k++)
      expect(sketch.estimate(hashKey(`/hot/${k}`))).toBeGreaterThanOrEqual(10)
    let overcounted = 0
    for (let k = 0; k < 900; k++)
      overcounted += sketch.estimate(hashKey(`/cold/0/${k}`)) > 2 ? 1 : 0
    expect(overcounted).toBeLessThan(20)
  })

  it('halves every count after its sample size, so old popularity fades', () => {
    const sketch = new FrequencySketch(10)
    const old = hashKey('/old')
    for (let i = 0; i < 12; i++) sketch.record(old)
    expect(sketch.estimate(old)).toBe(12)
    const size = sampleSizeFor(10)
    for (let i = 12; i < size; i++) sketch.record(hashKey(`/other/${i}`))
    // 11 counted + the doorkeeper's 1; aged: 11 >> 1 and the doorkeeper forgotten.
    expect(sketch.estimate(old)).toBe(5)
  })

  it('remembers ten times longer in its long memory, counting from the first access', () => {
    const sketch = new FrequencySketch(1_000, 'long')
    const old = hashKey('/old')
    for (let i = 0; i < 12; i++) sketch.record(old)
    expect(sketch.estimate(old)).toBe(12)
    const size = 10 * sampleSizeFor(1_000)
    const other = (i: number) => hashKey(`/other/${i % 500}`)
    for (let i = 12; i < size / 10; i++) sketch.record(other(i))
    expect(sketch.estimate(old)).toBe(12)
    for (let i = size / 10; i < size; i++) sketch.record(other(i))
    expect(sketch.estimate(old)).toBe(6)
  })

  it('remembers longer than Caffeine at small sizes, never shorter', () => {
    expect(sampleSizeFor(100)).toBe(10_000)
    expect(sampleSizeFor(50)).toBe(5_000)
    expect(sampleSizeFor(1_000)).toBe(10_000)
    expect(sampleSizeFor(10_000)).toBe(100_000)
    expect(() => new FrequencySketch(0)).toThrow(/capacity must be a whole number/)
  })
})
