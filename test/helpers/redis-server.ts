import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createCluster } from '@redis/client'
import { afterAll, beforeAll } from 'vitest'
import { freePort, RedisServerProcess } from '../../bench/redis-server-process.js'

export { freePort }

/**
 * A redis-server of one test's own, on its own free port, which the test stops, slows down and
 * starts again at will. Never the machine's 6379, never the run's shared server.
 */
export class RedisServer extends RedisServerProcess {
  /** A server on a free port, started unless `started` is false; `args` go to redis-server. */
  static async create(started = true, args: readonly string[] = []): Promise<RedisServer> {
    const server = new RedisServer(await freePort(), { args, pingTries: 100, cliTimeout: 0 })
    if (started) await server.start()
    return server
  }

  /** Stops the server and resolves once its process has exited. */
  stop(): Promise<void> {
    return this.kill()
  }
}

/** The client of the cluster `useOneNodeCluster` starts. */
export type ClusterClient = ReturnType<typeof createCluster>

/**
 * A Redis Cluster of one node holding every slot, for every test of the calling describe block:
 * enough for a client to route by key as it does on a real one, and for Redis to refuse
 * CROSSSLOT. The client, connected, only exists from `beforeAll` on.
 */
export function useOneNodeCluster(): { readonly client: ClusterClient } {
  let dir: string | undefined
  let server: RedisServer | undefined
  let client: ClusterClient | undefined

  beforeAll(async () => {
    // A cluster node insists on a config file of its own.
    dir = await mkdtemp(join(tmpdir(), 'bw-cluster-'))
    server = await RedisServer.create(true, [
      ...['--cluster-enabled', 'yes', '--cluster-config-file', join(dir, 'nodes.conf')],
    ])
    await server.cli('CLUSTER', 'ADDSLOTSRANGE', '0', '16383')
    while (!(await server.cli('CLUSTER', 'INFO')).includes('cluster_state:ok')) {
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    client = createCluster({ rootNodes: [{ url: server.url }] })
    client.on('error', () => {})
    await client.connect()
  })
  afterAll(async () => {
    await client?.close()
    await server?.stop()
    if (dir !== undefined) await rm(dir, { recursive: true, force: true })
  })

  return {
    get client() {
      if (client === undefined) throw new Error('the cluster starts in beforeAll')
      return client
    },
  }
}
