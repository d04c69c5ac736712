import { createFetch } from '../../../src/index.js'
import { startFaultUpstream } from '../fault-upstream.js'
import { RedisProcess } from '../redis-process.js'
import { type ChaosScenario, Escapes, Offenders, scaled, sleep, Watch } from '../scenario.js'

/** The shared bucket: its rate and its burst. */
const perSecond = 50
const capacity = 10
/**
 * The server allows the same rate with a few more tokens of burst: room for the jitter of a
 * local round trip, never for a second burst of the bucket's size.
 */
const serverBurst = capacity + 5
/** A 429 this soon after a switch (ms) is the switch's. */
const window = 1_000

/** Redis goes away and comes back; each change is a switch between the shared and local bucket. */
const switches: readonly {
  readonly name: string
  enter(redis: RedisProcess, ms: number): unknown
}[] = [
  { name: 'Redis → local (SIGKILL)', enter: (redis) => redis.kill() },
  { name: 'local → Redis (restart)', enter: (redis) => redis.restart() },
  {
    name: 'Redis → local → Redis (CLIENT PAUSE)',
    enter: (redis, ms) => redis.cli('CLIENT', 'PAUSE', String(ms), 'ALL'),
  },
  { name: 'Redis → local (never answers)', enter: (redis) => redis.silence() },
  { name: 'local → Redis (restart)', enter: (redis) => redis.restart() },
]

/** The 429s within `window` of a switch, each switch's told apart in `offenders`. */
function refusalsAtSwitches(
  refusals: readonly number[],
  at: readonly number[],
  offenders: Offenders,
) {
  const near = (t: number, s: number) => t >= s && t < s + window
  for (const [i, s] of at.entries()) {
    const n = refusals.filter((t) => near(t, s)).length
    if (n > 0) offenders.add(`${n} × 429 within ${window} ms of "${switches[i]?.name}"`)
  }
  return refusals.filter((t) => at.some((s) => near(t, s)))
}

/**
 * Callers asking more than a strict server quota allows, through one shared bucket that
 * matches it, while Redis goes away and comes back: no switch between the shared and the local
 * bucket may let a burst through that the server refuses.
 */
export const switch429: ChaosScenario = {
  name: 'switch-429',
  description:
    'a shared bucket at the server quota while Redis goes and comes: 429s at each switch',
  async run(options) {
    const phaseMs = scaled(3_000, options, 1_200)
    const offenders = new Offenders()
    const escapes = new Escapes(offenders)
    const redis = await RedisProcess.start()
    const upstream = await startFaultUpstream({ quota: { perSecond, burst: serverBurst } })
    const fetch = createFetch({
      redis: { url: redis.url, timeout: 100 },
      namespace: `chaos-switch-${process.pid}-${Date.now().toString(36)}`,
      cache: false,
      retry: false,
      breaker: false,
      rateLimit: { name: 'requests', perSecond, capacity, maxWait: 5_000 },
    })
    const watch = new Watch(10_000)
    let done = false
    let calls = 0
    const callers = Array.from({ length: 20 }, async (_, lane) => {
      while (!done) {
        const path = `/ok/${lane}-${calls++}`
        const ending = await watch.run(async () => (await fetch(`${upstream.url}${path}`)).text())
        if (ending.kind === 'hung') offenders.add(`hung: GET ${path}`)
      }
    })
    const at: number[] = []
    try {
      await sleep(phaseMs)
      for (const change of switches) {
        options.log?.(`  switch: ${change.name}`)
        at.push(performance.now())
        await change.enter(redis, phaseMs)
        await sleep(phaseMs)
      }
    } finally {
      done = true
      await Promise.all(callers)
    }
    await watch.run(() => fetch.close())
    await redis.stop()
    await upstream.close()
    await watch.drain()
    const atSwitch = refusalsAtSwitches(upstream.refusals, at, offenders)
    return {
      figures: [
        { name: 'calls', value: calls, unit: 'count' },
        { name: 'switches', value: at.length, unit: 'count' },
        { name: 'answered 200 by the server', value: upstream.admitted, unit: 'count' },
        watch.figure(),
        ...escapes.stop(),
        { name: '429s at a switch', value: atSwitch.length, unit: 'count', atMost: 0 },
        {
          name: '429s away from a switch',
          value: upstream.refusals.length - atSwitch.length,
          unit: 'count',
        },
      ],
      offenders: offenders.lines,
    }
  },
}
