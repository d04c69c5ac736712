/**
 * One process of the shared-quota scenario: one limiter on the shared Redis (breakwater,
 * bottleneck's clustering mode or rate-limiter-flexible), `ready`, then on `go` from stdin
 * `callers` concurrent loops calling through it for `ms` milliseconds; prints what it saw as one
 * JSON line.
 *
 * Arguments: subject, redis URL, namespace, base URL, perSecond, capacity, callers, ms.
 */
import { createClient } from '@redis/client'
import Bottleneck from 'bottleneck'
import Redis from 'ioredis'
import { RateLimiterQueue, RateLimiterRedis } from 'rate-limiter-flexible'
import { Agent } from 'undici'
import { createFetch } from '../../src/index.js'
import { readyThenGo } from '../fleet.js'
import { getStatus } from '../peers/client.js'

const args = process.argv.slice(2)
if (args.length !== 8) {
  throw new Error(
    'usage: shared-quota-child <subject> <redis> <namespace> <base> <perSecond> <capacity> <callers> <ms>',
  )
}
const [subject, redis, namespace, base] = args as [string, string, string, string]
const [perSecond, capacity, callers, ms] = args.slice(4).map(Number) as [
  number,
  number,
  number,
  number,
]

/** Sends one call through the subject's limiter; resolves with the status. */
type Send = (url: string) => Promise<number>

async function limiter(): Promise<{ send: Send; close(): Promise<void> }> {
  const agent = new Agent()
  const plain: Send = (url) => getStatus(url, agent)
  if (subject === 'breakwater') {
    const fetch = createFetch({
      redis: { url: redis, processes: 4 },
      namespace,
      cache: false,
      coalesce: false,
      retry: false,
      rateLimit: { name: 'quota', perSecond, capacity, maxWait: 60_000 },
    })
    const send: Send = async (url) => {
      const res = await fetch(url)
      await res.arrayBuffer()
      return res.status
    }
    return { send, close: () => fetch.close() }
  }
  if (subject === 'bottleneck') {
    const { hostname, port, password } = new URL(redis)
    const bottleneck = new Bottleneck({
      id: namespace,
      datastore: 'ioredis',
      Redis,
      clientOptions: {
        host: hostname,
        port: Number(port || 6379),
        ...(password === '' ? {} : { password: decodeURIComponent(password) }),
      },
      minTime: 1_000 / perSecond,
    })
    bottleneck.on('error', () => {})
    await bottleneck.ready()
    return {
      send: (url) => bottleneck.schedule(() => plain(url)),
      close: async () => {
        await bottleneck.disconnect()
        await agent.close()
      },
    }
  }
  const client = createClient({ url: redis })
  client.on('error', () => {})
  await client.connect()
  const rlf = new RateLimiterRedis({
    storeClient: client,
    useRedisPackage: true,
    keyPrefix: namespace,
    points: perSecond,
    duration: 1,
  })
  const queue = new RateLimiterQueue(rlf, { maxQueueSize: 100_000 })
  return {
    send: async (url) => {
      await queue.removeTokens(1)
      return plain(url)
    },
    close: async () => {
      client.destroy()
      await agent.close()
    },
  }
}

const { send, close } = await limiter()
await readyThenGo()
let failed = 0
let n = 0
const end = performance.now() + ms
await Promise.all(
  Array.from({ length: callers }, async () => {
    while (performance.now() < end) {
      try {
        await send(`${base}/${n++}`)
      } catch {
        failed++
      }
    }
  }),
)
process.stdout.write(`${JSON.stringify({ failed })}\n`)
await close()
