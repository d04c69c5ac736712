import { beforeAll, expect, inject } from 'vitest'
import type { ChaosResult, ChaosScenario, Figure } from '../../bench/chaos/scenario.js'

/** What `useChaos` gives the tests of a file: the scenario's figures, once it has run. */
export interface ChaosRun {
  /** The figure named `name`; fails the test if the scenario has none. */
  figure(name: string): Figure
  /** Asserts the figure's invariant, showing what broke it when it does not hold. */
  holds(name: string): void
}

/**
 * Runs a chaos scenario once, before the file's tests, at `scale` (a small share of the counts
 * of `npm run chaos`), against the run's private Redis for what it does not break.
 */
export function useChaos(scenario: ChaosScenario, scale: number, timeoutMs = 60_000): ChaosRun {
  let result: Pick<ChaosResult, 'figures' | 'offenders'> | undefined
  beforeAll(async () => {
    result = await scenario.run({ scale, redisUrl: inject('redisUrl') })
  }, timeoutMs)
  const figure = (name: string): Figure => {
    const found = result?.figures.find((f) => f.name === name)
    if (found === undefined) throw new Error(`${scenario.name} has no figure "${name}"`)
    return found
  }
  return {
    figure,
    holds(name) {
      const f = figure(name)
      if (f.atMost === undefined) throw new Error(`"${name}" is no invariant`)
      const why = `${scenario.name}: ${name}\n${result?.offenders.join('\n') ?? ''}`
      expect(f.value, why).toBeLessThanOrEqual(f.atMost)
    },
  }
}
