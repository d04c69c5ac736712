import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { createServer, type Server, type Socket } from 'node:net'
import { promisify } from 'node:util'

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
 * A private redis-server on a free port of its own, which a chaos scenario kills, restarts,
 * pauses and replaces by a server that never answers. Never the machine's 6379.
 */
export class RedisProcess {
  readonly port: number
  readonly url: string
  #child: ChildProcess | undefined
  #silent: SilentServer | undefined

  private constructor(port: number) {
    this.port = port
    this.url = `redis://127.0.0.1:${port}`
  }

  static async start(): Promise<RedisProcess> {
    const redis = new RedisProcess(await freePort())
    await redis.restart()
    return redis
  }

  /** Starts redis-server (again, on the same port) and resolves once it answers PING. */
  async restart(): Promise<void> {
    await this.#silent?.close()
    this.#silent = undefined
    if (this.#child !== undefined) return
    const child = spawn(
      'redis-server',
      [
        ...['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
        ...['--enable-debug-command', 'local'],
      ],
      { stdio: 'ignore' },
    )
    this.#child = child
    for (let i = 0; i < 150; i++) {
      if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}`)
      try {
        if ((await this.cli('PING')) === 'PONG') return
      } catch {}
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    throw new Error(`redis-server on port ${this.port} did not answer PING`)
  }

  /** SIGKILL: no goodbye to its clients, every key lost. */
  async kill(): Promise<void> {
    const child = this.#child
    this.#child = undefined
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return
    const exited = new Promise((resolve) => child.once('exit', resolve))
    child.kill('SIGKILL')
    await exited
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

  /** One command through redis-cli, its output trimmed. */
  async cli(...args: string[]): Promise<string> {
    const { stdout } = await run('redis-cli', ['-p', String(this.port), ...args], {
      encoding: 'utf8',
      timeout: 5_000,
    })
    return stdout.trim()
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
