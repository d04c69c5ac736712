import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'

/**
 * A TypeScript fixture run in a child process of its own (through tsx) that prints `ready`,
 * waits for a line on stdin, then prints one JSON line with its result: so that several
 * processes can be started first and then let go together.
 */
export class ChildScript<Result> {
  readonly process: ChildProcess
  readonly ready: Promise<void>
  readonly result: Promise<Result>

  constructor(script: string, args: readonly string[]) {
    this.process = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
      stdio: ['pipe', 'pipe', 'inherit'],
    })
    const lines: string[] = []
    let buffered = ''
    let onLine = () => {}
    this.process.stdout?.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8')
      const parts = buffered.split('\n')
      buffered = parts.pop() ?? ''
      lines.push(...parts)
      onLine()
    })
    const line = (index: number) =>
      new Promise<string>((resolve, reject) => {
        const check = () => {
          if (lines.length > index) resolve(lines[index] as string)
        }
        onLine = check
        check()
        this.process.once('exit', (code) => reject(new Error(`child exited with ${code}`)))
      })
    this.ready = line(0).then(() => {})
    this.result = this.ready.then(() => line(1)).then((text) => JSON.parse(text) as Result)
    // A child killed on purpose rejects its result; that is not a failure of the test file.
    this.result.catch(() => {})
  }

  go(): void {
    this.process.stdin?.end('go\n')
  }

  async kill(): Promise<void> {
    if (this.process.exitCode !== null || this.process.signalCode !== null) return
    const exited = once(this.process, 'exit')
    this.process.kill('SIGKILL')
    await exited
  }
}
