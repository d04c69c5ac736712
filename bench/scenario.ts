import { Bench, hrtimeNowTimestampProvider } from 'tinybench'
import type { BarChart, LineChart } from '../src/cli/charts.js'

/** What the runner passes to every scenario. */
export interface RunOptions {
  /** Fewer and shorter cycles: for a quick look, not for figures to compare. */
  readonly quick: boolean
  /** The Redis server of `--redis` or `REDIS_URL`, answering PING; set for `redis` scenarios. */
  readonly redisUrl?: string | undefined
}

/** One named, realistic situation, measured with its floors and peers in the same run. */
export interface Scenario {
  /** Short kebab-case name, matched by `--filter`. */
  readonly name: string
  /** One sentence on what the scenario stands for. */
  readonly description: string
  /** Needs a Redis server: runs only with `--redis URL` or a reachable `REDIS_URL`. */
  readonly redis?: boolean
  run(options: RunOptions): Promise<ScenarioResult>
}

/** One thing measured within a scenario. */
export interface Subject {
  readonly name: string
  /** Floors bound the cost from below; peers are other libraries doing the same job. */
  readonly role: 'floor' | 'subject' | 'peer'
  /** The floor this subject is compared to (a floor's is itself). */
  readonly floor: string
  /**
   * Operations per timed sample. 1 gives a true per-operation p99; operations far below the
   * timer's own cost need a batch, and then only the mean per operation is reported. A batch
   * above 1 is for synchronous operations only: the loop does not await.
   * @default 1
   */
  readonly batch?: number
  /** One operation. */
  readonly fn: () => unknown
}

export interface Figures {
  readonly subject: string
  readonly role: Subject['role']
  readonly floor: string
  readonly opsPerSecond: number
  readonly meanNs: number
  readonly p50Ns: number | null
  readonly p99Ns: number | null
  /** Relative margin of error of the mean, in percent. */
  readonly rmePercent: number
  readonly samples: number
  readonly batch: number
  /** This subject's mean over its floor's mean. */
  readonly ratioToFloor: number
}

export interface Ratio {
  readonly name: string
  readonly value: number
  /** Met when `value` is below it. */
  readonly goalBelow: number | null
  readonly met: boolean | null
}

/** Something that must hold for the figures to mean what they claim (a hit was a hit). */
export interface Check {
  readonly name: string
  readonly ok: boolean
  readonly detail: string
}

export interface ScenarioResult {
  readonly name: string
  readonly description: string
  readonly figures: readonly Figures[]
  readonly ratios: readonly Ratio[]
  readonly checks: readonly Check[]
  /** Figures counted rather than timed: hit ratios, upstream calls, recovery times. */
  readonly counted?: Counted
  /** Charts of the figures, rendered as SVG into the output folder. */
  readonly charts?: readonly ChartSpec[]
}

/** What a scenario that counts rather than times reports, besides its name. */
export type CountedParts = Pick<ScenarioResult, 'checks' | 'charts'> & {
  readonly counted: Counted
  /** Only where the scenario computes its own: it has no tinybench figures to divide. */
  readonly ratios?: readonly Ratio[]
}

/** The result of a scenario whose figures are counted, none timed by tinybench. */
export function countedResult(
  scenario: Pick<Scenario, 'name' | 'description'>,
  parts: CountedParts,
): ScenarioResult {
  return {
    name: scenario.name,
    description: scenario.description,
    figures: [],
    ratios: [],
    ...parts,
  }
}

/** How a counted figure reads: a share, a count, a duration, or a multiple of something. */
export type Unit = 'share' | 'count' | 'ms' | 'times'

/** One table of counted figures, with what makes its comparisons fair. */
export interface Counted {
  readonly columns: readonly { readonly name: string; readonly unit: Unit }[]
  readonly rows: readonly CountedRow[]
  /** How each subject is configured, by subject name: the comparison is fair or not in here. */
  readonly configs: Readonly<Record<string, string>>
}

export interface CountedRow {
  /** What varies within the scenario (`s=1.0 · 1,000 entries`, `cold key`), or `''`. */
  readonly case: string
  readonly subject: string
  /** A ceiling bounds a figure from above, as Belady's optimal bounds any cache's hit ratio. */
  readonly role: Subject['role'] | 'ceiling'
  /** One value per column, in order; `null` where the subject has no such figure. */
  readonly values: readonly (number | null)[]
}

/** A chart of a scenario's figures, drawn as SVG into the output folder by src/cli/charts.ts. */
export type ChartSpec =
  | { readonly file: string; readonly kind: 'line'; readonly chart: LineChart }
  | { readonly file: string; readonly kind: 'bar'; readonly chart: BarChart }

/**
 * Measures subjects one after another with tinybench, in one process and one run, so that
 * their figures share the machine's state and can be divided by one another.
 */
export async function measure(
  subjects: readonly Subject[],
  options: RunOptions,
): Promise<Figures[]> {
  const bench = new Bench({
    time: options.quick ? 150 : 1_000,
    warmupTime: options.quick ? 50 : 250,
    timestampProvider: hrtimeNowTimestampProvider,
    // Per-operation samples of a few µs would otherwise carry the timer's own cost.
    subtractTimerOverhead: true,
    throws: true,
  })
  const byName = new Map(subjects.map((s) => [s.name, s]))
  for (const subject of subjects) {
    if (!byName.has(subject.floor)) {
      throw new Error(`subject ${subject.name}: floor ${subject.floor} is not among the subjects`)
    }
    const batch = subject.batch ?? 1
    if (batch === 1) {
      bench.add(subject.name, subject.fn)
      continue
    }
    bench.add(subject.name, () => {
      const start = bench.now()
      // Stored where it stays observable, so that the loop body cannot be optimized away.
      for (let i = 0; i < batch; i++) sink.last = subject.fn()
      const elapsed = bench.now() - start
      return { overriddenDuration: elapsed / batch, overriddenIterationCost: elapsed }
    })
  }
  await bench.run()

  const means = new Map<string, number>()
  const partial = bench.tasks.map((task) => {
    const result = task.result
    if (result.state !== 'completed') {
      const reason = result.state === 'errored' ? `: ${result.error.message}` : ''
      throw new Error(`subject ${task.name} ended ${result.state}${reason}`)
    }
    const subject = byName.get(task.name) as Subject
    const batch = subject.batch ?? 1
    const meanNs = result.latency.mean * 1e6
    means.set(task.name, meanNs)
    return {
      subject: task.name,
      role: subject.role,
      floor: subject.floor,
      opsPerSecond: 1e9 / meanNs,
      meanNs,
      p50Ns: batch === 1 ? result.latency.p50 * 1e6 : null,
      p99Ns: batch === 1 ? result.latency.p99 * 1e6 : null,
      rmePercent: result.latency.rme,
      samples: result.latency.samplesCount,
      batch,
    }
  })
  return partial.map((f) => ({ ...f, ratioToFloor: f.meanNs / (means.get(f.floor) as number) }))
}

const sink: { last: unknown } = { last: undefined }

/** `a / b` of two measured subjects, with an optional goal that the quotient stays below. */
export function ratio(
  figures: readonly Figures[],
  name: string,
  numerator: string,
  denominator: string,
  goalBelow: number | null = null,
): Ratio {
  const mean = (subject: string) => {
    const found = figures.find((f) => f.subject === subject)
    if (found === undefined) throw new Error(`ratio ${name}: no subject ${subject}`)
    return found.meanNs
  }
  const value = mean(numerator) / mean(denominator)
  return { name, value, goalBelow, met: goalBelow === null ? null : value < goalBelow }
}
