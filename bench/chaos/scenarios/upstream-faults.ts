import { createFetch } from '../../../src/index.js'
import { createRandom } from '../../../src/replay/random.js'
import { type Echo, type FaultMode, startFaultUpstream } from '../fault-upstream.js'
import { type ChaosScenario, Escapes, Offenders, pool, scaled, Watch } from '../scenario.js'

/** ms per attempt; the faults that never answer cost this much each time. */
const attemptTimeout = 1_000
const maxAttempts = 2
/** Far above what the attempts, their backoff and a busy machine can take: only a stuck call passes it. */
const boundMs = 10_000

/** Shares of the traffic, by fault; the rest is answered normally. */
const mix: readonly [FaultMode, number][] = [
  ['reset', 0.08],
  ['trickle', 0.08],
  ['truncate', 0.08],
  ['silent', 0.03],
  ['stall', 0.03],
]
const users = ['Bearer alice', 'Bearer bob', 'Bearer carol'] as const

function modeOf(draw: number): FaultMode {
  let edge = 0
  for (const [mode, share] of mix) {
    edge += share
    if (draw < edge) return mode
  }
  return 'ok'
}

/**
 * Calls through an upstream that resets, trickles, truncates, stalls and never answers, with
 * cache, coalescing and retries on, three users on shared URLs: every call must settle, and
 * every body that arrives must be whole and the caller's own.
 */
export const upstreamFaults: ChaosScenario = {
  name: 'upstream-faults',
  description: '20,000 calls through an upstream that resets, trickles, truncates, never answers',
  async run(options) {
    const calls = scaled(20_000, options, 50)
    const offenders = new Offenders()
    const escapes = new Escapes(offenders)
    const upstream = await startFaultUpstream({ latencyMs: 5, trickleMs: 20 })
    const fetch = createFetch({
      timeout: attemptTimeout,
      retry: { maxAttempts, baseDelay: 5, maxDelay: 20, budget: false },
      breaker: false,
      cache: { ttl: 200 },
    })
    const watch = new Watch(boundMs)
    const random = createRandom(10)
    let wrongCaller = 0
    let brokenBodies = 0
    let answered = 0
    let failed = 0
    await pool(calls, 50, async (i) => {
      const mode = modeOf(random())
      const user = users[i % users.length] as string
      const path = `/${mode}/item-${i % 40}`
      const ending = await watch.run(async () => {
        const res = await fetch(`${upstream.url}${path}`, { headers: { authorization: user } })
        return { status: res.status, text: await res.text() }
      })
      if (ending.kind === 'hung') return void offenders.add(`hung: GET ${path} (${mode})`)
      if (ending.kind === 'error') return void failed++
      answered++
      let echo: Echo | undefined
      try {
        echo = JSON.parse(ending.value.text) as Echo
      } catch {
        brokenBodies++
        offenders.add(`${ending.value.status} with a broken body: GET ${path} (${mode})`)
        return
      }
      if (echo.credentials.authorization !== user) {
        wrongCaller++
        offenders.add(`${user} got ${echo.credentials.authorization}'s body: GET ${path}`)
      }
    })
    await fetch.close()
    await upstream.close()
    const neverSettled = await watch.drain()
    if (neverSettled > 0) offenders.add(`${neverSettled} calls never settled, even after close`)
    options.log?.(`  ${calls} calls: ${answered} answered, ${failed} failed`)
    return {
      figures: [
        { name: 'calls', value: calls, unit: 'count' },
        { name: 'answered (2xx or a status)', value: answered, unit: 'count' },
        { name: 'failed (an error)', value: failed, unit: 'count' },
        watch.figure(),
        ...escapes.stop(),
        { name: 'wrong-caller bodies', value: wrongCaller, unit: 'count', atMost: 0 },
        { name: 'broken bodies served whole', value: brokenBodies, unit: 'count', atMost: 0 },
      ],
      offenders: offenders.lines,
    }
  },
}
