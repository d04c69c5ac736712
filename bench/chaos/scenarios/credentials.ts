import { createClient } from '@redis/client'
import { credentialHeaders } from '../../../src/core/key.js'
import { type BreakwaterFetch, createFetch } from '../../../src/index.js'
import { type Echo, startFaultUpstream } from '../fault-upstream.js'
import { type ChaosScenario, Escapes, Offenders, sleep } from '../scenario.js'

type Pattern = 'concurrent' | 'sequential' | 'anonymous' | 'set-cookie'
const patterns: readonly Pattern[] = ['concurrent', 'sequential', 'anonymous', 'set-cookie']

/** Who asks, in order: a credential value, or none. `at` is when, in ms from the start. */
const callers: Readonly<Record<Pattern, readonly { cred: string | null; at: number }[]>> = {
  concurrent: [
    { cred: 'alice', at: 0 },
    { cred: 'bob', at: 5 },
  ],
  sequential: [
    { cred: 'alice', at: 0 },
    { cred: 'bob', at: 150 },
  ],
  anonymous: [
    { cred: 'alice', at: 0 },
    { cred: null, at: 150 },
    { cred: null, at: 300 },
    { cred: 'alice', at: 450 },
  ],
  'set-cookie': [
    { cred: 'alice', at: 0 },
    { cred: 'alice', at: 5 },
    { cred: 'alice', at: 150 },
  ],
}

interface Heard {
  readonly cred: string | null
  readonly echo: Echo
  readonly cookie: string | null
}

/**
 * Each credential header × store (memory, Redis) × who asks: no caller ever gets a body made
 * for another credential, nor a session cookie set for another request, and an answer to a
 * request with `Authorization` is never kept in a shared store.
 */
export const credentials: ChaosScenario = {
  name: 'credentials',
  description: '48 credential cases: bodies and cookies reach their own caller only',
  async run(options) {
    const offenders = new Offenders()
    const escapes = new Escapes(offenders)
    const upstream = await startFaultUpstream({ latencyMs: 60 })
    const cookies = await startFaultUpstream({ latencyMs: 60, setCookie: true })
    const redis = createClient({ url: options.redisUrl })
    redis.on('error', () => {})
    await redis.connect()
    let cases = 0
    let wrongCaller = 0
    let sharedCookies = 0
    let storedAuthorized = 0
    for (const header of credentialHeaders) {
      for (const store of ['memory', 'redis'] as const) {
        for (const pattern of patterns) {
          cases++
          const namespace = `chaos-cred-${process.pid}-${Date.now().toString(36)}-${cases}`
          const fetch = createFetch({
            ...(store === 'redis' ? { redis: { url: options.redisUrl } } : {}),
            ...{ namespace, cache: { ttl: 60_000 }, retry: false },
          })
          const base = pattern === 'set-cookie' ? cookies.url : upstream.url
          const heard = await ask(fetch, `${base}/ok/${header}`, header, callers[pattern])
          await fetch.close()
          const where = `${header} · ${store} · ${pattern}`
          wrongCaller += wrongBodies(heard, header, where, offenders)
          sharedCookies += sharedCookiesOf(heard, where, offenders)
          // Only where every caller sent the header: an anonymous answer may be stored.
          if (store === 'redis' && header === 'authorization' && pattern !== 'anonymous') {
            const kept = (await redis.keys(`${namespace}:cache:*`)).length
            storedAuthorized += kept
            if (kept > 0) offenders.add(`${where}: ${kept} Authorization answers in Redis`)
          }
        }
      }
    }
    redis.destroy()
    await Promise.all([upstream.close(), cookies.close()])
    return {
      figures: [
        { name: 'credential cases', value: cases, unit: 'count' },
        ...escapes.stop(),
        { name: 'wrong-caller bodies', value: wrongCaller, unit: 'count', atMost: 0 },
        {
          name: 'Set-Cookie handed to another caller',
          value: sharedCookies,
          unit: 'count',
          atMost: 0,
        },
        {
          name: 'Authorization answers in a shared store',
          value: storedAuthorized,
          unit: 'count',
          atMost: 0,
        },
      ],
      offenders: offenders.lines,
    }
  },
}

/** Callers that got a body the upstream made for another credential. */
function wrongBodies(heard: readonly Heard[], header: string, where: string, offenders: Offenders) {
  let wrong = 0
  for (const h of heard) {
    const got = h.echo.credentials[header] ?? null
    if (got === headerValue(header, h.cred)) continue
    wrong++
    offenders.add(`${where}: caller ${h.cred} got the body of ${got}`)
  }
  return wrong
}

/** Callers past the first that got one and the same session cookie. */
function sharedCookiesOf(heard: readonly Heard[], where: string, offenders: Offenders) {
  const seen = heard.map((h) => h.cookie).filter((c) => c !== null)
  const repeated = seen.length - new Set(seen).size
  if (repeated > 0) offenders.add(`${where}: one Set-Cookie handed to ${repeated + 1} callers`)
  return repeated
}

function headerValue(header: string, cred: string | null): string | null {
  if (cred === null) return null
  if (header === 'cookie') return `session=${cred}`
  return header.endsWith('authorization') ? `Bearer ${cred}` : cred
}

async function ask(
  fetch: BreakwaterFetch,
  url: string,
  header: string,
  who: readonly { cred: string | null; at: number }[],
): Promise<Heard[]> {
  return Promise.all(
    who.map(async ({ cred, at }) => {
      await sleep(at)
      const value = headerValue(header, cred)
      const res = await fetch(url, { headers: value === null ? {} : { [header]: value } })
      const echo = JSON.parse(await res.text()) as Echo
      return { cred, echo, cookie: res.headers.get('set-cookie') }
    }),
  )
}
