/**
 * One worker process of a queue on the shared Redis, for the queue-drain scenario and the queue
 * fleet tests: its jobs run through a breakwater fetch on the same Redis (shared idempotency
 * records, one shared bucket when perSecond > 0). Says `ready` once its worker is taking jobs,
 * runs until a line on stdin, closes and prints its event counts as one JSON line; the scenario
 * or a test may SIGKILL it at any point.
 *
 * Arguments: redis URL, BullMQ prefix, queue name, namespace, perSecond, capacity, concurrency,
 * lease (ms), and optionally onUnknownOutcome (`resend` unless given).
 */
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import { createQueue, type QueueEvent } from '../../src/queue/index.js'

const args = process.argv.slice(2)
if (args.length !== 8 && args.length !== 9) {
  throw new Error(
    'usage: queue-drain-child <redis> <prefix> <name> <namespace> <perSecond> <capacity> <concurrency> <lease> [onUnknownOutcome]',
  )
}
const [redis, prefix, name, namespace] = args as [string, string, string, string]
// Checked by createQueue, which names a wrong one.
const onUnknownOutcome = (args[8] ?? 'resend') as 'resend' | 'dead'
const [perSecond, capacity, concurrency, lease] = args.slice(4, 8).map(Number) as [
  number,
  number,
  number,
  number,
]
const counts: Partial<Record<QueueEvent['type'], number>> = {}
const queue = createQueue({
  name,
  prefix,
  redis,
  concurrency,
  lease,
  onUnknownOutcome,
  attempts: 5,
  backoff: { delay: 200 },
  fetch: {
    // Generous: four busy processes on a small machine must not mark Redis down.
    redis: { url: redis, processes: 4, timeout: 2_000 },
    namespace,
    cache: false,
    coalesce: false,
    retry: { maxAttempts: 3, baseDelay: 20, maxDelay: 100 },
    ...(perSecond > 0
      ? { rateLimit: { name: 'quota', perSecond, capacity, maxWait: 60_000 } }
      : {}),
  },
  onEvent: (event) => {
    counts[event.type] = (counts[event.type] ?? 0) + 1
  },
})
// The first read opens the queue: its worker is running once it answers.
await queue.counts()
const lines = createInterface({ input: process.stdin })
process.stdout.write('ready\n')
await once(lines, 'line')
lines.close()
await queue.close({ timeout: 5_000 })
process.stdout.write(`${JSON.stringify({ counts })}\n`)
