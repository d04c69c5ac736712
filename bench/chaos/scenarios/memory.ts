import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { type WrapOptions, wrap } from '../../../src/index.js'
import { type ChaosScenario, type Figure, scaled } from '../scenario.js'

/** Room for the garbage collector's own noise, plus a few bytes per call at most. */
const slackBytes = 1_048_576
const bytesPerCall = 8
/** A case whose heap grows past this is stopped there: its leak is shown, not an out-of-memory. */
const stopAtBytes = 256 * 1_048_576

/**
 * Each case sends every call with a key never seen before, into what must stay bounded. The
 * first keeps the defaults (coalescing, an attempt timeout); the others turn coalescing off, so
 * that each measures its own store alone.
 */
const cases: readonly { readonly name: string; readonly options: WrapOptions<[number]> }[] = [
  { name: 'in-flight calls', options: { cache: false } },
  { name: 'cache entries', options: { coalesce: false, cache: { maxEntries: 1_000 } } },
  {
    name: 'idempotency records',
    options: {
      cache: false,
      coalesce: false,
      idempotency: { maxRecords: 1_000 },
      idempotencyKey: (i) => `k-${i}`,
    },
  },
  {
    name: 'rate-limit buckets',
    options: {
      cache: false,
      coalesce: false,
      rateLimit: { name: 'per-key', perSecond: 1e6, key: (call) => `${call.url}-${Math.random()}` },
    },
  },
  {
    name: 'breaker scopes',
    options: { cache: false, coalesce: false, breaker: { scope: () => `${Math.random()}` } },
  },
]

/** The collector, exposed without a command-line flag. */
function collector(): () => void {
  setFlagsFromString('--expose-gc')
  return runInNewContext('gc') as () => void
}

function heapAfterCollect(gc: () => void): number {
  gc()
  gc()
  return process.memoryUsage().heapUsed
}

/**
 * Calls with ever new keys through the cache, idempotency records, rate-limit buckets and
 * breaker scopes: once each bound is reached, the heap must stay flat for the second half.
 */
export const memory: ChaosScenario = {
  name: 'memory',
  description: '200,000 calls per case, each with a new key: the heap stays flat',
  async run(options) {
    const calls = scaled(200_000, options, 20_000)
    const gc = collector()
    const figures: Figure[] = []
    const offenders: string[] = []
    for (const { name, options: wrapOptions } of cases) {
      const fn = wrap(async (i: number) => ({ i, text: 'x'.repeat(64) }), {
        ...wrapOptions,
        retry: false,
      })
      const half = Math.floor(calls / 2)
      let middle = Number.POSITIVE_INFINITY
      let i = 0
      for (; i < calls; i++) {
        if (i === half) middle = heapAfterCollect(gc)
        if (i % 10_000 === 0 && process.memoryUsage().heapUsed > middle + stopAtBytes) break
        await fn(i)
      }
      const growth = heapAfterCollect(gc) - middle
      await fn.close()
      const atMost = slackBytes + bytesPerCall * (i - half)
      if (growth > atMost)
        offenders.push(`${name}: heap grew ${growth} bytes over ${i - half} calls`)
      figures.push({ name: `heap growth, ${name}`, value: growth, unit: 'bytes', atMost })
      options.log?.(`  ${name}: ${calls} calls, heap ${growth} bytes`)
    }
    return {
      figures: [{ name: 'calls per case', value: calls, unit: 'count' }, ...figures],
      offenders,
    }
  },
}
