import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { createCluster } from '@redis/client'
import { afterAll, beforeAll } from 'vitest'

const run = promisify(execFile)

/** A TCP port nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0))
    })
  })
}

/**
 * A redis-server of one test's own, on its own free port, which the test stops, slows down and
 * starts again at will. Never the machine's 6379, never the run's shared server.
 */
export class RedisServer {
  readonly port: number
  readonly url: string
  readonly #args: readonly string[]
  #child: ChildProcess | undefined

  private constructor(port: number, args: readonly string[]) {
    this.port = port
    this.url = `redis://127.0.0.1:${port}`
    this.#args = args
  }

  /** A server on a free port, started unless `started` is false; `args` go to redis-server. */
  static async create(started = true, args: readonly string[] = []): Promise<RedisServer> {
    const server = new RedisServer(await freePort(), args)
    if (started) await server.start()
    return server
  }

  get running(): boolean {
    return this.#child !== undefined
  }

  /** Starts the server (again, on the same port) and resolves once it answers PING. */
  async start(): Promise<void> {
    if (this.#child !== undefined) return
    const child = spawn(
      'redis-server',
      [
        ...['--port', String(this.port), '--bind', '127.0.0.1'],
        ...['--save', '', '--appendonly', 'no', ...this.#args],
      ],
      { stdio: 'ignore' },
    )
    this.#child = child
    for (let i = 0; i < 100; i++) {
      if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}`)
      try {
        if ((await this.cli('PING')) === 'PONG') return
      } catch {}
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    throw new Error(`redis-server on port ${this.port} did not answer PING`)
  }

  /** Stops the server and resolves once its process has exited. */
  async stop(): Promise<void> {
    const child = this.#child
    if (child === undefined) return
    this.#child = undefined
    if (child.exitCode !== null || child.signalCode !== null) return
    const exited = new Promise((resolve) => child.once('exit', resolve))
    child.kill('SIGKILL')
    await exited
  }

  /** Runs one command with redis-cli and returns its output, trimmed. */
  async cli(...args: string[]): Promise<string> {
    const { stdout } = await run('redis-cli', ['-p', String(this.port), ...args], {
      encoding: 'utf8',
    })
    return stdout.trim()
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
