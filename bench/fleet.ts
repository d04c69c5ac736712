/**
 * Fleets of child processes for the multi-process scenarios: every child is started first and
 * says `ready`, then all are let go together with `go` on stdin, and each prints what it saw as
 * one JSON line.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { createInterface } from 'node:readline'

/**
 * Runs `processes` copies of the script `child` under tsx with `args`: waits until each is
 * ready, lets all go at once and resolves with the JSON line each printed. `name` is the
 * scenario's, for the error when a child exits before it answers.
 */
export async function runFleet<T>(
  name: string,
  child: string,
  args: readonly string[],
  processes: number,
): Promise<T[]> {
  const children = Array.from({ length: processes }, () =>
    spawn(process.execPath, ['--import', 'tsx', child, ...args], {
      stdio: ['pipe', 'pipe', 'inherit'],
    }),
  )
  try {
    const lines = children.map((c) =>
      createInterface({ input: c.stdout as NonNullable<ChildProcess['stdout']> })[
        Symbol.asyncIterator
      ](),
    )
    const next = async (it: AsyncIterator<string>) => {
      const { value, done } = await it.next()
      if (done) throw new Error(`a ${name} child exited before it answered`)
      return value
    }
    await Promise.all(lines.map(next))
    for (const c of children) c.stdin?.end('go\n')
    const results = await Promise.all(lines.map(next))
    return results.map((line) => JSON.parse(line) as T)
  } finally {
    await Promise.all(children.map(ended))
  }
}

/** In a child: says `ready`, then waits for the `go` that lets the whole fleet start at once. */
export async function readyThenGo(): Promise<void> {
  const lines = createInterface({ input: process.stdin })
  process.stdout.write('ready\n')
  await once(lines, 'line')
  lines.close()
}

/** Waits for a child to exit on its own for a while, then kills it. */
async function ended(c: ChildProcess): Promise<void> {
  if (c.exitCode !== null || c.signalCode !== null) return
  const exited = once(c, 'exit')
  const timer = setTimeout(() => c.kill('SIGKILL'), 5_000)
  await exited
  clearTimeout(timer)
}
