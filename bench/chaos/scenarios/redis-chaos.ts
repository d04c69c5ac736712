import { type BreakwaterFetch, createFetch } from '../../../src/index.js'
import { startFaultUpstream } from '../fault-upstream.js'
import { RedisProcess } from '../redis-process.js'
import {
  type ChaosOptions,
  type ChaosScenario,
  Escapes,
  Offenders,
  scaled,
  sleep,
  Watch,
} from '../scenario.js'

/** `redis.timeout`, ms. */
export const redisTimeout = 100
/** The upstream's own latency, ms. */
export const upstreamMs = 50
/** The issue's bound on a call waiting on a lease: Redis' timeout, the upstream, and 1 s. */
export const leaseBound = redisTimeout + upstreamMs + 1_000

/** What happens to Redis, in order; each lasts one phase. */
const phases: readonly {
  readonly name: string
  enter(redis: RedisProcess, ms: number): unknown
}[] = [
  { name: 'up', enter: () => {} },
  { name: 'SIGKILL', enter: (redis) => redis.kill() },
  { name: 'restarted', enter: (redis) => redis.restart() },
  { name: 'CLIENT PAUSE', enter: (redis, ms) => redis.cli('CLIENT', 'PAUSE', String(ms), 'ALL') },
  { name: 'up again', enter: () => {} },
  {
    name: 'DEBUG SLEEP',
    // redis-cli waits for the sleep to end, and fails when the next phase kills the server.
    enter: (redis, ms) => void redis.cli('DEBUG', 'SLEEP', String(ms / 1_000)).catch(() => {}),
  },
  { name: 'never answers', enter: (redis) => redis.silence() },
  { name: 'restarted again', enter: (redis) => redis.restart() },
]

interface Load {
  readonly a: BreakwaterFetch
  readonly b: BreakwaterFetch
  /** An upstream whose answers are stored, and one whose answers never are (`no-store`). */
  readonly stored: string
  readonly unstored: string
  readonly watch: Watch
  readonly offenders: Offenders
  /** The phase each idempotency key was first sent in. */
  readonly keyPhase: Map<string, string>
  phase: string
  longestLeaseWait: number
}

/**
 * Two instances ask each key at about the same time: one leases it, the other waits. Two keys
 * are cold and stored; the third is never stored and comes back every few rounds, so that a
 * lease left behind in Redis (one that a pause let through late) would make its asker wait.
 */
async function leasedGets(load: Load, round: number): Promise<void> {
  const urls = [
    `${load.stored}/ok/lease-${round}-0`,
    `${load.stored}/ok/lease-${round}-1`,
    `${load.unstored}/ok/lease-${round % 6}`,
  ]
  const gets = urls.flatMap((url) => {
    const path = url.replace(/^http:\/\/[^/]+/, '')
    return [load.a, load.b, load.a, load.b].map(async (fetch, k) => {
      await sleep(k * 7)
      const ending = await load.watch.run(async () => (await fetch(url)).text())
      if (ending.kind === 'error') load.offenders.add(`GET ${path} failed in ${load.phase}`)
      if (ending.ms > load.longestLeaseWait) load.longestLeaseWait = ending.ms
      if (ending.ms > leaseBound) {
        load.offenders.add(`GET ${path} took ${ending.ms.toFixed(0)} ms (${load.phase})`)
      }
    })
  })
  await Promise.all(gets)
}

/** One instance sends a key, then twice at once again: only the first may go upstream. */
async function keyedPosts(load: Load, round: number): Promise<void> {
  const sends = (['a', 'b'] as const).map(async (who) => {
    const fetch = load[who]
    const key = `${who}-${round}`
    load.keyPhase.set(key, load.phase)
    const post = () =>
      load.watch.run(async () => {
        const res = await fetch(`${load.stored}/ok/orders`, {
          method: 'POST',
          body: key,
          breakwater: { idempotencyKey: key },
        })
        return res.text()
      })
    await post()
    await Promise.all([post(), post()])
  })
  await Promise.all(sends)
}

function instance(url: string, namespace: string): BreakwaterFetch {
  return createFetch({
    redis: { url, timeout: redisTimeout },
    namespace,
    timeout: 2_000,
    retry: { maxAttempts: 2, baseDelay: 10, maxDelay: 50 },
    breaker: false,
    cache: { ttl: 60_000 },
  })
}

/**
 * close() of every instance once Redis stopped answering: the two that lived through the
 * chaos, and a fresh one that connected just before. Returns the longest close, in ms.
 */
async function closeAgainstSilence(redis: RedisProcess, load: Load): Promise<number> {
  const c = instance(redis.url, `chaos-close-${process.pid}`)
  await load.watch.run(async () => (await c(`${load.stored}/ok/close-warm`)).text())
  await redis.silence()
  await load.watch.run(async () => (await c(`${load.stored}/ok/close-silent`)).text())
  const endings = await Promise.all([c, load.a, load.b].map((f) => load.watch.run(() => f.close())))
  return Math.max(...endings.map((e) => e.ms))
}

/** Runs the load in two lanes while Redis goes through every phase; returns the rounds run. */
async function underChaos(
  redis: RedisProcess,
  load: Load,
  phaseMs: number,
  log: ChaosOptions['log'],
): Promise<number> {
  let done = false
  let rounds = 0
  const lanes = [0, 1].map(async () => {
    while (!done) {
      const round = rounds++
      await Promise.all([leasedGets(load, round), keyedPosts(load, round)])
    }
  })
  try {
    for (const phase of phases) {
      load.phase = phase.name
      log?.(`  redis: ${phase.name}`)
      await phase.enter(redis, phaseMs)
      await sleep(phaseMs)
    }
  } finally {
    done = true
    await Promise.all(lanes)
  }
  return rounds
}

/** Keys the upstream saw more than once: each key is sent by one instance only. */
function sentTwice(keys: ReadonlyMap<string, number>, load: Load): number {
  let twice = 0
  for (const [key, n] of keys) {
    if (n < 2) continue
    twice++
    load.offenders.add(
      `key ${key} sent ${n} times by one instance (first in ${load.keyPhase.get(key)})`,
    )
  }
  return twice
}

export const redisChaos: ChaosScenario = {
  name: 'redis-chaos',
  description:
    'cold GETs and keyed POSTs while Redis is killed, restarted, paused, slept, silenced',
  async run(options: ChaosOptions) {
    const phaseMs = scaled(4_000, options, 700)
    const offenders = new Offenders()
    const escapes = new Escapes(offenders)
    const redis = await RedisProcess.start()
    const upstream = await startFaultUpstream({ latencyMs: upstreamMs })
    const unstored = await startFaultUpstream({ latencyMs: upstreamMs, cacheControl: 'no-store' })
    const namespace = `chaos-${process.pid}-${Date.now().toString(36)}`
    const watch = new Watch(10_000)
    const load: Load = {
      a: instance(redis.url, namespace),
      b: instance(redis.url, namespace),
      stored: upstream.url,
      unstored: unstored.url,
      watch,
      offenders,
      keyPhase: new Map(),
      phase: 'up',
      longestLeaseWait: 0,
    }
    const rounds = await underChaos(redis, load, phaseMs, options.log)
    const closeMs = await closeAgainstSilence(redis, load)
    await redis.stop()
    await Promise.all([upstream.close(), unstored.close()])
    await watch.drain()
    const twice = sentTwice(upstream.keys, load)
    if (closeMs > redisTimeout + 1_000)
      offenders.add(`close() took ${closeMs.toFixed(0)} ms on a silent Redis`)
    return {
      figures: [
        { name: 'rounds (12 GETs, 6 keyed POSTs each)', value: rounds, unit: 'count' },
        watch.figure(),
        ...escapes.stop(),
        { name: 'keyed POSTs sent twice by one process', value: twice, unit: 'count', atMost: 0 },
        {
          name: 'longest wait on a lease',
          value: load.longestLeaseWait,
          unit: 'ms',
          atMost: leaseBound,
        },
        {
          name: 'longest close() against a silent Redis',
          value: closeMs,
          unit: 'ms',
          atMost: redisTimeout + 1_000,
        },
      ],
      offenders: offenders.lines,
    }
  },
}
