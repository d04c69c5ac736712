/** What every chaos scenario is given and gives back, and the bookkeeping they all share. */

/** What the runner (or a test) passes to every scenario. */
export interface ChaosOptions {
  /** Multiplies every count of the scenario: 1 for `npm run chaos`, a small share in tests. */
  readonly scale: number
  /**
   * A Redis the scenario may use but never break. Scenarios that kill or pause Redis start a
   * redis-server of their own.
   */
  readonly redisUrl: string
  /** Where a scenario says how far it got, for a long run; silent in tests. */
  readonly log?: (line: string) => void
}

/** One measured figure; `atMost` makes it an invariant. */
export interface Figure {
  readonly name: string
  readonly value: number
  readonly unit: 'count' | 'ms' | 'bytes'
  /** The invariant: the most `value` may be. Absent for figures that only inform. */
  readonly atMost?: number
}

export interface ChaosResult {
  readonly name: string
  readonly description: string
  readonly figures: readonly Figure[]
  /** What broke an invariant, one line each (the first few), to start a repro from. */
  readonly offenders: readonly string[]
  readonly ms: number
}

export interface ChaosScenario {
  /** Short kebab-case name, matched by `--filter`. */
  readonly name: string
  readonly description: string
  run(options: ChaosOptions): Promise<Omit<ChaosResult, 'name' | 'description' | 'ms'>>
}

/** `base` scaled, never below `least`. */
export const scaled = (base: number, options: ChaosOptions, least = 1): number =>
  Math.max(least, Math.round(base * options.scale))

/** The figures of a result whose invariants do not hold. */
export const broken = (result: Pick<ChaosResult, 'figures'>): Figure[] =>
  result.figures.filter((f) => f.atMost !== undefined && !(f.value <= f.atMost))

/** Keeps the first few offenders of a scenario: enough to start from, not a flood. */
export class Offenders {
  readonly lines: string[] = []
  add(line: string): void {
    if (this.lines.length < 8) this.lines.push(line)
  }
}

/**
 * Counts the unhandled rejections and uncaught exceptions that happen while a scenario runs.
 * Listening also keeps one from ending the process, so that the scenario can report it.
 */
export class Escapes {
  rejections = 0
  exceptions = 0
  readonly #offenders: Offenders
  readonly #onRejection = (reason: unknown) => {
    this.rejections++
    this.#offenders.add(`unhandled rejection: ${describe(reason)}`)
  }
  readonly #onException = (error: unknown) => {
    this.exceptions++
    this.#offenders.add(`uncaught exception: ${describe(error)}`)
  }

  constructor(offenders: Offenders) {
    this.#offenders = offenders
    process.on('unhandledRejection', this.#onRejection)
    process.on('uncaughtException', this.#onException)
  }

  stop(): Figure[] {
    process.off('unhandledRejection', this.#onRejection)
    process.off('uncaughtException', this.#onException)
    return [
      { name: 'unhandled rejections', value: this.rejections, unit: 'count', atMost: 0 },
      { name: 'uncaught exceptions', value: this.exceptions, unit: 'count', atMost: 0 },
    ]
  }
}

export function describe(value: unknown): string {
  if (value instanceof Error) return `${value.name}: ${value.message}`.slice(0, 200)
  return `${typeof value} ${String(value)}`.slice(0, 200)
}

/** How a watched call ended; `hung` when it had not settled by its bound. */
export type Ending<T> =
  | { readonly kind: 'value'; readonly value: T; readonly ms: number }
  | { readonly kind: 'error'; readonly error: unknown; readonly ms: number }
  | { readonly kind: 'hung'; readonly ms: number }

/**
 * Watches calls: each must settle within `boundMs`, or it counts as hung. A hung call is not
 * awaited further here; `drain` waits for the stragglers once the scenario has closed what
 * they hang on.
 */
export class Watch {
  hung = 0
  readonly #pending = new Set<Promise<unknown>>()
  readonly #boundMs: number

  constructor(boundMs: number) {
    this.#boundMs = boundMs
  }

  async run<T>(call: () => Promise<T>): Promise<Ending<T>> {
    const started = performance.now()
    const ms = () => performance.now() - started
    const settled: Promise<Ending<T>> = call().then(
      (value) => ({ kind: 'value', value, ms: ms() }),
      (error: unknown) => ({ kind: 'error', error, ms: ms() }),
    )
    this.#pending.add(settled)
    void settled.then(() => this.#pending.delete(settled))
    let timer: NodeJS.Timeout | undefined
    const bound = new Promise<Ending<T>>((resolve) => {
      timer = setTimeout(() => resolve({ kind: 'hung', ms: ms() }), this.#boundMs)
    })
    const ending = await Promise.race([settled, bound])
    clearTimeout(timer)
    if (ending.kind === 'hung') this.hung++
    return ending
  }

  /** Waits up to `ms` for the calls still pending; resolves with how many never settled. */
  async drain(ms = 5_000): Promise<number> {
    let timer: NodeJS.Timeout | undefined
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), ms)
    })
    await Promise.race([Promise.allSettled([...this.#pending]), late])
    clearTimeout(timer)
    return this.#pending.size
  }

  figure(): Figure {
    return { name: 'hung calls', value: this.hung, unit: 'count', atMost: 0 }
  }
}

/** Runs `task(i)` for i in [0, count) with at most `width` at once. */
export async function pool(
  count: number,
  width: number,
  task: (i: number) => Promise<void>,
): Promise<void> {
  let next = 0
  const lane = async () => {
    while (next < count) await task(next++)
  }
  await Promise.all(Array.from({ length: Math.min(width, count) }, lane))
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))
