/**
 * One process of the cross-process scenario: builds a breakwater fetch (on the shared Redis, or
 * in memory alone), or the hand-written floor, warms up, says `ready`, waits for `go` on stdin
 * so that every process starts at once, asks each key with several concurrent callers and
 * prints what it saw as one JSON line.
 *
 * Arguments: redis URL ('' for memory alone), namespace, base URL, keys, callers per key, the
 * warm-up: `fleet` (as a process that has been up a while) or `fresh` (one call), and the
 * subject: `breakwater` or `floor`.
 */
import { type CreateFetchOptions, createFetch } from '../../src/index.js'
import { readyThenGo } from '../fleet.js'

const [redis, namespace, base, keys, callers, warmUp = 'fleet', subject = 'breakwater'] =
  process.argv.slice(2)
if (redis === undefined || namespace === undefined || base === undefined) {
  throw new Error(
    'usage: cross-process-child <redis-url|""> <namespace> <base-url> <keys> <callers> [fleet|fresh] [breakwater|floor]',
  )
}
const calls = Number(keys) * Number(callers)

/** What the measured calls go through: a breakwater fetch, or the floor. */
interface Subject {
  (url: string): Promise<Response>
  close(): Promise<void>
}

let redisDown = false
const options: CreateFetchOptions = {
  ...(redis === '' ? {} : { redis }),
  namespace,
  cache: { ttl: 60_000 },
  retry: false,
  onEvent: (event) => {
    if (event.type === 'redisDown') redisDown = true
    if (event.type === 'redisUp') redisDown = false
  },
}
const fetch = subject === 'floor' ? floorFetch() : createFetch(options)

/** All the calls of one burst from `f` at once, `callers` per key of `path`. */
const burst = (f: Subject, path: string) =>
  Promise.all(
    Array.from({ length: calls }, async (_, i) => {
      await (await f(`${path}/v1/items/${i % Number(keys)}`)).arrayBuffer()
    }),
  )

// Warm-up paths are outside the round's segment: the upstream does not count them.
const origin = new URL(base).origin
// Fresh: the modules breakwater loads on first use, its Redis connection and the subscriber
// that wakes its waiters are ready before the measured calls, and nothing more.
await (await fetch(`${origin}/warmup-${process.pid}/`)).arrayBuffer()
if (warmUp === 'fleet') {
  // As in a fleet that has been up a while, the code of both sides of a lease has run hot (a
  // process's first bursts run in V8's interpreter, at several times the cost): a second
  // instance here asks the same keys at once, so that one of the two waits on the other.
  const peer = subject === 'floor' ? floorFetch() : createFetch(options)
  for (let round = 0; round < 3; round++) {
    const path = `${origin}/warmup-${process.pid}-${round}`
    await Promise.all([burst(fetch, path), burst(peer, path)])
  }
  await peer.close()
  // ...and its connection is up: a process started on a busy machine may have seen its first
  // handshake time out, and Redis stays marked down for a second after.
  for (let probe = 0; redisDown && probe < 40; probe++) {
    await new Promise((resolve) => setTimeout(resolve, 250))
    await (await fetch(`${origin}/warmup-${process.pid}-probe-${probe}/`)).arrayBuffer()
  }
}
await readyThenGo()

const waits: number[] = []
let failed = 0
await Promise.all(
  Array.from({ length: calls }, async (_, i) => {
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

/**
 * The least any library does here: one `fetch` per URL in flight, read whole, and a `Response`
 * of its own for each caller. No cache, no other process: what 200 calls at once cost in a
 * process of its own on this machine.
 */
function floorFetch(): Subject {
  interface Read {
    readonly status: number
    readonly headers: [string, string][]
    readonly body: Uint8Array
  }
  const flights = new Map<string, Promise<Read>>()
  const read = async (url: string): Promise<Read> => {
    const res = await globalThis.fetch(url)
    return {
      status: res.status,
      headers: [...res.headers],
      body: new Uint8Array(await res.arrayBuffer()),
    }
  }
  const call = async (url: string) => {
    let flight = flights.get(url)
    if (flight === undefined) {
      flight = read(url).finally(() => flights.delete(url))
      flights.set(url, flight)
    }
    const { status, headers, body } = await flight
    return new Response(body, { status, headers })
  }
  return Object.assign(call, { close: async () => {} })
}
