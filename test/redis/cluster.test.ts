import { describe, expect, it } from 'vitest'
import { createFetch } from '../../src/fetch.js'
import { RedisConnection } from '../../src/redis/connection.js'
import { resolveRedis } from '../../src/redis/options.js'
import { RedisScript } from '../../src/redis/scripts.js'
import { realContext, testNamespace } from '../helpers/redis.js'
import { useOneNodeCluster } from '../helpers/redis-server.js'
import { delay, reply, useUpstream } from '../helpers/upstream.js'

describe('the distributed mode on Redis Cluster', () => {
  const nodes = useOneNodeCluster()
  const { up: upstream } = useUpstream()

  it('shares one cold call and its entry between instances on one cluster client', async () => {
    upstream.handle(async (_req, res) => {
      await delay(100)
      reply(res, 200, 'from the cluster')
    })
    const namespace = testNamespace('cluster')
    const [a, b] = [
      createFetch({ redis: nodes.client, namespace }),
      createFetch({ redis: nodes.client, namespace }),
    ]
    const bodies = await Promise.all([a, b].map(async (f) => (await f(`${upstream.url}/c`)).text()))
    expect(bodies).toEqual(['from the cluster', 'from the cluster'])
    expect(upstream.requests.filter((r) => r.url === '/c')).toHaveLength(1)
    expect(a.stats().redisErrors + b.stats().redisErrors).toBe(0)
    await Promise.all([a.close(), b.close()])
    expect(nodes.client.isOpen).toBe(true)
  })

  it('runs a script over keys that share a hash tag, and Redis refuses those that do not', async () => {
    const redis = resolveRedis(nodes.client)
    if (!redis) throw new Error('redis expected')
    const connection = new RedisConnection(redis, testNamespace('cluster'), realContext())
    const both = new RedisScript(
      "redis.call('SET', KEYS[1], ARGV[1]) redis.call('SET', KEYS[2], ARGV[1]) return 1",
    )
    const tagged = [
      connection.key('bucket', '{b1}', 'tokens'),
      connection.key('bucket', '{b1}', 'at'),
    ]
    expect(await both.run(connection, tagged, ['7'])).toBe(1)
    const untagged = [connection.key('x', 'one'), connection.key('x', 'two')]
    await expect(both.run(connection, untagged, ['7'])).rejects.toThrow('CROSSSLOT')
    await connection.close()
  })
})
