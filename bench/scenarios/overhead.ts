import { isDeepStrictEqual } from 'node:util'
import {
  Agent,
  type Dispatcher,
  interceptors,
  Response as UndiciResponse,
  fetch as undiciFetch,
} from 'undici'
import { createFetch, type Stats, wrap } from '../../src/index.js'
import { type Check, measure, ratio, type Scenario, type Subject } from '../scenario.js'
import { startUpstream } from '../upstream.js'

const item = '/v1/items/42'
// Longer than any run, so that no entry expires while it is being measured.
const ttl = 3_600_000

/**
 * What a cache hit costs: breakwater's fetch and wrap hits beside their floors (building the
 * same Response from bytes; a Map get of the parsed object) and beside undici's own cache
 * interceptor, all serving one entry of one local upstream.
 */
export const overhead: Scenario = {
  name: 'overhead',
  description: 'the cost of a cache hit on a ~2 KiB JSON entry, beside its floors and undici',
  async run(options) {
    const upstream = await startUpstream()
    const url = `${upstream.url}${item}`
    const bwFetch = createFetch({ cache: { ttl } })
    const plainAgent = new Agent()
    const getItem = async (id: string): Promise<unknown> => {
      const res = await undiciFetch(`${upstream.url}/v1/items/${id}`, { dispatcher: plainAgent })
      if (!res.ok)
        throw Object.assign(new Error(`upstream answered ${res.status}`), { status: res.status })
      return res.json()
    }
    const bwWrap = wrap(getItem, { cache: { ttl }, name: 'getItem' })
    const cacheAgent = new Agent()
    const undiciCached = cacheAgent.compose(interceptors.cache())

    try {
      const warm = await bwFetch(url)
      if (warm.status !== 200) throw new Error(`warming ${url}: status ${warm.status}`)
      const bytes = new Uint8Array(await warm.arrayBuffer())
      const init = { status: warm.status, statusText: warm.statusText, headers: [...warm.headers] }
      const parsed: unknown = JSON.parse(Buffer.from(bytes).toString('utf8'))
      const map = new Map([['42', parsed]])
      await bwWrap('42')
      await warmUndici(url, undiciCached, () => upstream.requests)

      const calls = { fetch: 0, wrap: 0, undici: 0 }
      const subjects: Subject[] = [
        {
          name: 'Response floor',
          role: 'floor',
          floor: 'Response floor',
          fn: () => new UndiciResponse(bytes, init).arrayBuffer(),
        },
        {
          name: 'breakwater fetch hit',
          role: 'subject',
          floor: 'Response floor',
          fn: async () => {
            calls.fetch++
            return (await bwFetch(url)).arrayBuffer()
          },
        },
        {
          name: 'undici cache hit',
          role: 'peer',
          floor: 'Response floor',
          fn: async () => {
            calls.undici++
            return (await undiciFetch(url, { dispatcher: undiciCached })).arrayBuffer()
          },
        },
        {
          name: 'Map get floor',
          role: 'floor',
          floor: 'Map get floor',
          batch: 4096,
          fn: () => map.get('42'),
        },
        {
          name: 'breakwater wrap hit',
          role: 'subject',
          floor: 'Map get floor',
          fn: () => {
            calls.wrap++
            return bwWrap('42')
          },
        },
      ]

      const sameEntry = await checkSameEntry(bytes, parsed, [
        ['breakwater fetch', async () => new Uint8Array(await (await bwFetch(url)).arrayBuffer())],
        [
          'undici cache',
          async () =>
            new Uint8Array(
              await (await undiciFetch(url, { dispatcher: undiciCached })).arrayBuffer(),
            ),
        ],
        ['breakwater wrap', () => bwWrap('42')],
      ])
      const fetchBefore = bwFetch.stats()
      const wrapBefore = bwWrap.stats()
      const upstreamBefore = upstream.requests

      const figures = await measure(subjects, options)

      const checks: Check[] = [
        sameEntry,
        hitCheck('breakwater fetch served hits only', fetchBefore, bwFetch.stats(), calls.fetch),
        hitCheck('breakwater wrap served hits only', wrapBefore, bwWrap.stats(), calls.wrap),
        {
          name: 'upstream untouched while measuring',
          ok: upstream.requests === upstreamBefore,
          detail:
            `${upstream.requests - upstreamBefore} upstream requests during ` +
            `${calls.fetch + calls.wrap + calls.undici} calls ` +
            `(${calls.fetch} fetch, ${calls.wrap} wrap, ${calls.undici} undici)`,
        },
      ]
      return {
        name: overhead.name,
        description: overhead.description,
        figures,
        ratios: [
          ratio(
            figures,
            'breakwater fetch hit / Response floor',
            'breakwater fetch hit',
            'Response floor',
            2,
          ),
          ratio(
            figures,
            'breakwater fetch hit / undici cache hit',
            'breakwater fetch hit',
            'undici cache hit',
            1 / 3,
          ),
          ratio(
            figures,
            'breakwater wrap hit / Map get floor',
            'breakwater wrap hit',
            'Map get floor',
          ),
        ],
        checks,
      }
    } finally {
      await bwFetch.close()
      await bwWrap.close()
      await plainAgent.close()
      await cacheAgent.close()
      await upstream.close()
    }
  },
}

/**
 * undici's cache stores the entry only once the body has streamed through its write stream, so
 * the first fetch may return before the entry is there: fetch until one leaves the upstream alone.
 */
async function warmUndici(url: string, dispatcher: Dispatcher, requests: () => number) {
  for (let attempt = 0; attempt < 20; attempt++) {
    const before = requests()
    await (await undiciFetch(url, { dispatcher })).arrayBuffer()
    if (attempt > 0 && requests() === before) return
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
  throw new Error(`undici's cache interceptor never served ${url} without the upstream`)
}

function hitCheck(name: string, before: Stats, after: Stats, calls: number): Check {
  const hits = after.cacheHits - before.cacheHits
  const misses = after.cacheMisses - before.cacheMisses
  const upstreamCalls = after.upstreamCalls - before.upstreamCalls
  return {
    name,
    ok: calls > 0 && hits === calls && misses === 0 && upstreamCalls === 0,
    detail: `stats().cacheHits +${hits} for ${calls} calls, cacheMisses +${misses}, upstreamCalls +${upstreamCalls}`,
  }
}

/** Every subject must serve the very entry the floors are built from, or the ratios compare apples to pears. */
async function checkSameEntry(
  bytes: Uint8Array,
  parsed: unknown,
  readers: readonly (readonly [string, () => Promise<unknown>])[],
): Promise<Check> {
  const differing: string[] = []
  for (const [name, read] of readers) {
    const got = await read()
    const same =
      got instanceof Uint8Array ? Buffer.from(got).equals(bytes) : isDeepStrictEqual(got, parsed)
    if (!same) differing.push(name)
  }
  return {
    name: 'one entry for all',
    ok: differing.length === 0,
    detail:
      differing.length === 0
        ? `${bytes.byteLength}-byte body, identical from ${readers.map(([n]) => n).join(', ')}`
        : `differs from the warmed body: ${differing.join(', ')}`,
  }
}
