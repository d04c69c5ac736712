import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createCluster } from '@redis/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createFetch } from '../../src/fetch.js'
import { testNamespace } from '../helpers/redis.js'
import { RedisServer } from '../helpers/redis-server.js'
import { reply, startUpstream, type Upstream } from '../helpers/upstream.js'

describe('idempotency records on Redis Cluster', () => {
  let dir: string
  let server: RedisServer
  let upstream: Upstream
  let cluster: ReturnType<typeof createCluster>

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bw-cluster-records-'))
    // One node holding every slot: enough for the client to route by key, as a real one does.
    server = await RedisServer.create(true, [
      ...['--cluster-enabled', 'yes', '--cluster-config-file', join(dir, 'nodes.conf')],
    ])
    await server.cli('CLUSTER', 'ADDSLOTSRANGE', '0', '16383')
    while (!(await server.cli('CLUSTER', 'INFO')).includes('cluster_state:ok')) {
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    upstream = await startUpstream((_req, res, seen, index) => {
      reply(res, 201, `#${index} ${seen.body}`)
    })
    cluster = createCluster({ rootNodes: [{ url: server.url }] })
    cluster.on('error', () => {})
    await cluster.connect()
  })
  afterAll(async () => {
    await cluster.close()
    await upstream.close()
    await server.stop()
    await rm(dir, { recursive: true, force: true })
  })

  it('replays a keyed POST recorded by one instance to another through a cluster client', async () => {
    const namespace = testNamespace('cluster-records')
    const [a, b] = [
      createFetch({ redis: cluster, namespace, retry: false }),
      createFetch({ redis: cluster, namespace, retry: false }),
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
