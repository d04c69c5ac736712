/**
 * Progress on stderr while `breakwater replay` reads and replays a large trace. On a terminal it
 * is one line redrawn in place; elsewhere (asked for with --progress) a plain line for every
 * tenth of the trace read and for every size × TTL, so that a log or CI output shows it too
 * without a line per percent. No timer: it moves only when the work does.
 */
import { formatDuration } from '../replay/duration.js'
import { count } from './table.js'

/** Where progress goes: process.stderr, or any stream that says whether it is a terminal. */
export interface ProgressOut {
  write(text: string): unknown
  readonly isTTY?: boolean
}

export class Progress {
  readonly #out: ProgressOut
  readonly #tty: boolean
  /** The last percentage shown, so that each is written once. */
  #shown = -1
  /** A line stands on a terminal that `end` has to clear. */
  #open = false

  constructor(out: ProgressOut) {
    this.#out = out
    this.#tty = out.isTTY === true
  }

  /** `done` of the `total` bytes of `file` read. */
  reading(file: string, done: number, total: number): void {
    const step = this.#tty ? 1 : 10
    const share = total > 0 ? Math.min(1, done / total) : 1
    const percent = Math.floor((share * 100) / step) * step
    if (percent === this.#shown) return
    this.#shown = percent
    this.#line(`reading ${file}: ${percent}% of ${megabytes(total)}`)
  }

  /** Before size × TTL number `done + 1` of `total`. */
  replaying(done: number, total: number, row: { maxEntries: number; ttlMs: number }): void {
    const what = `${count(row.maxEntries)} entries, ttl ${formatDuration(row.ttlMs)}`
    this.#line(`replaying ${done + 1}/${total}: ${what}`)
  }

  /** Clears the line on a terminal, before the table takes the screen. */
  end(): void {
    if (this.#open) this.#out.write('\r\x1b[K')
    this.#open = false
  }

  #line(text: string): void {
    if (!this.#tty) {
      this.#out.write(`${text}\n`)
      return
    }
    this.#out.write(`\r\x1b[K${text}`)
    this.#open = true
  }
}

/** Progress on `out` when it is a terminal or `asked` (--progress); otherwise none. */
export function progressFor(
  asked: boolean,
  out: ProgressOut = process.stderr,
): Progress | undefined {
  return asked || out.isTTY === true ? new Progress(out) : undefined
}

function megabytes(bytes: number): string {
  return `${(bytes / 1_000_000).toFixed(bytes < 10_000_000 ? 1 : 0)} MB`
}
