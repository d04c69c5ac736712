import { afterAll } from 'vitest'
import { openBullBackend } from '../../src/queue/bullmq-backend.js'
import { queueBackendConformance } from '../conformance/queue-backend.js'
import { rawClient, redisUrl, testNamespace } from '../helpers/redis.js'

// One BullMQ prefix per run: no other suite sees these queues.
const prefix = testNamespace('queue-backend').replaceAll(':', '-')

afterAll(async () => {
  const client = await rawClient()
  for await (const keys of client.scanIterator({ MATCH: `${prefix}:*`, COUNT: 1_000 })) {
    if (keys.length > 0) await client.del(keys)
  }
  await client.close()
})

queueBackendConformance('BullMQ backend', (options, onEvent) =>
  openBullBackend({ ...options, prefix }, redisUrl(), onEvent),
)
