import { createServer, type Server, type Socket } from 'node:net'
import { freePort, RedisServerProcess } from '../redis-server-process.js'

/**
 * A private redis-server on a free port of its own, which a chaos scenario kills, restarts,
 * pauses and replaces by a server that never answers. Never the machine's 6379.
 */
export class RedisProcess extends RedisServerProcess {
  #silent: SilentServer | undefined

  static async start(): Promise<RedisProcess> {
    // DEBUG SLEEP is one of the ways a scenario stalls it.
    const redis = new RedisProcess(await freePort(), {
      args: ['--enable-debug-command', 'local'],
      pingTries: 150,
      cliTimeout: 5_000,
    })
    await redis.restart()
    return redis
  }

  /** Starts redis-server (again, on the same port) in place of any silent server. */
  async restart(): Promise<void> {
    await this.#silent?.close()
    this.#silent = undefined
    await this.start()
  }

  /** Kills the server and listens on its port with one that accepts and never answers. */
  async silence(): Promise<void> {
    await this.kill()
    this.#silent ??= await SilentServer.listen(this.port)
  }

  /** Everything stopped: the server, or the silent one in its place. */
  async stop(): Promise<void> {
    await this.kill()
    await this.#silent?.close()
    this.#silent = undefined
  }
}

/** A TCP server that accepts every connection, reads what it is sent, and never answers. */
export class SilentServer {
  readonly port: number
  readonly #server: Server
  readonly #sockets = new Set<Socket>()

  private constructor(server: Server, port: number) {
    this.#server = server
    this.port = port
    server.on('connection', (socket) => {
      this.#sockets.add(socket)
      socket.on('error', () => {})
      socket.on('close', () => this.#sockets.delete(socket))
      socket.resume()
    })
  }

  /** Listens on 127.0.0.1:`port` (0: a free one). */
  static listen(port = 0): Promise<SilentServer> {
    const server = createServer()
    return new Promise((resolve, reject) => {
      server.once('error', reject)
      server.listen(port, '127.0.0.1', () => {
        const address = server.address()
        const bound = typeof address === 'object' && address ? address.port : port
        resolve(new SilentServer(server, bound))
      })
    })
  }

  close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy()
    return new Promise((resolve) => this.#server.close(() => resolve()))
  }
}
