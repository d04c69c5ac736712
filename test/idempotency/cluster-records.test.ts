import { describe, expect, it } from 'vitest'
import { createFetch } from '../../src/fetch.js'
import { testNamespace } from '../helpers/redis.js'
import { useOneNodeCluster } from '../helpers/redis-server.js'
import { reply, useUpstream } from '../helpers/upstream.js'

describe('idempotency records on Redis Cluster', () => {
  const nodes = useOneNodeCluster()
  const { up: upstream } = useUpstream((_req, res, seen, index) => {
    reply(res, 201, `#${index} ${seen.body}`)
  })

  it('replays a keyed POST recorded by one instance to another through a cluster client', async () => {
    const namespace = testNamespace('cluster-records')
    const [a, b] = [
      createFetch({ redis: nodes.client, namespace, retry: false }),
      createFetch({ redis: nodes.client, namespace, retry: false }),
    ]
    const post = async (fetch: typeof a) => {
      const res = await fetch(`${upstream.url}/orders`, {
        method: 'POST',
        body: 'a kiwi',
        breakwater: { idempotencyKey: 'cluster-1' },
      })
      return { text: await res.text(), replayed: res.headers.get('idempotent-replayed') }
    }
    const first = await post(a)
    expect(await post(b)).toEqual({ text: first.text, replayed: 'true' })
    expect(upstream.requests).toHaveLength(1)
    expect(a.stats().redisErrors + b.stats().redisErrors).toBe(0)
    expect(a.stats().redisFallbacks + b.stats().redisFallbacks).toBe(0)
    await Promise.all([a.close(), b.close()])
  })
})
