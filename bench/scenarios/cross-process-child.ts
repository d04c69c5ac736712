/**
 * One process of the cross-process scenario: builds a breakwater fetch (on the shared Redis, or
 * in memory alone), says `ready`, waits for `go` on stdin so that every process starts at once,
 * asks each key with several concurrent callers and prints what it saw as one JSON line.
 *
 * Arguments: redis URL ('' for memory alone), namespace, base URL, keys, callers per key.
 */
import { createFetch } from '../../src/index.js'
import { readyThenGo } from '../fleet.js'

const [redis, namespace, base, keys, callers] = process.argv.slice(2)
if (redis === undefined || namespace === undefined || base === undefined) {
  throw new Error(
    'usage: cross-process-child <redis-url|""> <namespace> <base-url> <keys> <callers>',
  )
}
const fetch = createFetch({
  ...(redis === '' ? {} : { redis }),
  namespace,
  cache: { ttl: 60_000 },
  retry: false,
})
// As in a fleet that has been up a while: the modules breakwater loads on first use, its Redis
// connection and the subscriber that wakes its waiters are ready before the measured calls.
// The warm-up path is outside the round's segment: the upstream does not count it.
await (await fetch(`${new URL(base).origin}/warmup-${process.pid}/`)).arrayBuffer()
await readyThenGo()

const waits: number[] = []
let failed = 0
await Promise.all(
  Array.from({ length: Number(keys) * Number(callers) }, async (_, i) => {
    const started = performance.now()
    try {
      const res = await fetch(`${base}/v1/items/${i % Number(keys)}`)
      await res.arrayBuffer()
      if (res.status !== 200) failed++
      else waits.push(performance.now() - started)
    } catch {
      failed++
    }
  }),
)
process.stdout.write(`${JSON.stringify({ failed, waits })}\n`)
await fetch.close()
