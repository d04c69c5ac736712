import { Presets, SingleBar } from 'cli-progress'

/** How far a scenario has come, in whatever units of work it counts (requests, calls, ms). */
export interface Progress {
  /** Counts `n` more units of work done. */
  tick(n?: number): void
  /** Ends the bar (whole or not), leaving the line in place. */
  stop(): void
}

const quiet: Progress = { tick() {}, stop() {} }

/**
 * A progress bar on stderr for one scenario of `total` units. Only when stdout is a terminal:
 * piped into a file or a test, the run prints its figures and nothing else.
 */
export function startProgress(name: string, total: number): Progress {
  if (!process.stdout.isTTY) return quiet
  const bar = new SingleBar(
    {
      format: `${name.padEnd(10)} {bar} {percentage}% · {value}/{total} · {duration}s`,
      hideCursor: false,
      fps: 5,
    },
    Presets.shades_classic,
  )
  bar.start(total, 0)
  let stopped = false
  return {
    tick: (n = 1) => bar.increment(n),
    stop() {
      if (stopped) return
      stopped = true
      bar.stop()
    },
  }
}
