import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { createServer } from 'node:net'
import { promisify } from 'node:util'

// No vitest here: the chaos runner runs this outside any test, and the test helper wraps it.

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

export interface RedisServerProcessOptions {
  /** Passed to redis-server after the port, the bind address and persistence off. */
  readonly args: readonly string[]
  /** PINGs, 20 ms apart, that `start` sends before it gives up. */
  readonly pingTries: number
  /** ms a redis-cli command may take; 0 for no limit. */
  readonly cliTimeout: number
}

/**
 * A private redis-server on a port of its own, which its owner starts, kills (SIGKILL: no
 * goodbye to clients, every key lost) and starts again on the same port. Never the machine's
 * 6379: the port is given, found free by `freePort`.
 */
export class RedisServerProcess {
  readonly port: number
  readonly url: string
  readonly #options: RedisServerProcessOptions
  #child: ChildProcess | undefined

  constructor(port: number, options: RedisServerProcessOptions) {
    this.port = port
    this.url = `redis://127.0.0.1:${port}`
    this.#options = options
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
        ...['--save', '', '--appendonly', 'no', ...this.#options.args],
      ],
      { stdio: 'ignore' },
    )
    this.#child = child
    for (let i = 0; i < this.#options.pingTries; i++) {
      if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}`)
      try {
        if ((await this.cli('PING')) === 'PONG') return
      } catch {}
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    throw new Error(`redis-server on port ${this.port} did not answer PING`)
  }

  /** SIGKILLs the server and resolves once its process has exited. */
  async kill(): Promise<void> {
    const child = this.#child
    this.#child = undefined
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return
    const exited = new Promise((resolve) => child.once('exit', resolve))
    child.kill('SIGKILL')
    await exited
  }

  /** Runs one command with redis-cli and returns its output, trimmed. */
  async cli(...args: string[]): Promise<string> {
    const { stdout } = await run('redis-cli', ['-p', String(this.port), ...args], {
      encoding: 'utf8',
      timeout: this.#options.cliTimeout,
    })
    return stdout.trim()
  }
}
