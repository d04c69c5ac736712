import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { Agent, cacheStores, interceptors, fetch as undiciFetch } from 'undici'
import { createFetch } from '../../src/index.js'
import { type Check, type CountedRow, countedResult, type Scenario } from '../scenario.js'

/** Body bytes of each full answer: a page of a typical JSON API. */
const bodyBytes = 32 * 1024
/** Distinct URLs each round asks for. */
const urls = 20
/** Seconds an answer is fresh; a round waits a little longer, so that every entry is stale. */
const maxAge = 1

interface Counts {
  full: number
  notModified: number
  bytes: number
}

/** How one subject GETs a URL, reading the body whole; `close` releases what it holds. */
interface Subject {
  readonly name: string
  readonly role: 'subject' | 'peer' | 'floor'
  readonly config: string
  start(): { get(url: string): Promise<void>; close(): Promise<void> }
}

const read = async (res: Response | Awaited<ReturnType<typeof undiciFetch>>) => {
  await res.arrayBuffer()
  if (res.status !== 200) throw new Error(`answered ${res.status}`)
}

const subjects: readonly Subject[] = [
  {
    name: 'breakwater',
    role: 'subject',
    config: 'createFetch(): the defaults; revalidates stale entries with If-None-Match',
    start() {
      const fetch = createFetch({ retry: false })
      return { get: async (url) => read(await fetch(url)), close: () => fetch.close() }
    },
  },
  {
    name: 'undici cache',
    role: 'peer',
    config:
      'undici fetch over new Agent().compose(interceptors.cache({ store: MemoryCacheStore }))',
    start() {
      const agent = new Agent().compose(
        interceptors.cache({ store: new cacheStores.MemoryCacheStore() }),
      )
      return {
        get: async (url) => read(await undiciFetch(url, { dispatcher: agent })),
        close: () => agent.close(),
      }
    },
  },
  {
    name: 'no cache',
    role: 'floor',
    config: 'undici fetch, nothing in front',
    start() {
      const agent = new Agent()
      return {
        get: async (url) => read(await undiciFetch(url, { dispatcher: agent })),
        close: () => agent.close(),
      }
    },
  },
]

/**
 * An API that revalidates, as GitHub's does: every answer carries an ETag and `max-age=1`, a
 * conditional request whose ETag still matches gets a bodiless 304, and only full answers
 * count against the quota.
 */
async function startUpstream() {
  const counts: Counts = { full: 0, notModified: 0, bytes: 0 }
  const body = Buffer.alloc(bodyBytes, 'x')
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    req.resume()
    const etag = `"${req.url}"`
    const headers = { etag, 'cache-control': `max-age=${maxAge}`, 'content-type': 'text/plain' }
    if (req.headers['if-none-match'] === etag) {
      counts.notModified++
      res.writeHead(304, headers)
      res.end()
      return
    }
    counts.full++
    counts.bytes += body.byteLength
    res.writeHead(200, { ...headers, 'content-length': String(body.byteLength) })
    res.end(body)
  }
  const server = createServer(handler)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    counts,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

/** Rounds of the same URLs, each after every entry went stale: full answers, 304s, bytes. */
async function runSubject(subject: Subject, rounds: number): Promise<Counts> {
  const upstream = await startUpstream()
  const { get, close } = subject.start()
  try {
    for (let round = 0; round < rounds; round++) {
      if (round > 0) await sleep(maxAge * 1_000 + 150)
      await Promise.all(Array.from({ length: urls }, (_, i) => get(`${upstream.url}/repos/${i}`)))
    }
  } finally {
    await close()
    await upstream.close()
  }
  return { ...upstream.counts }
}

/**
 * A revalidating upstream: the same URLs asked for again each time their answers went stale.
 * A cache that revalidates spends one full answer per URL and 304s after; one that does not
 * pays the quota and the bytes again every round.
 */
export const revalidate: Scenario = {
  name: 'revalidate',
  description: `${urls} URLs asked for again once stale, upstream answering 304s: quota and bytes`,
  async run(options) {
    const rounds = options.quick ? 3 : 5
    const runs: [Subject, Counts][] = []
    for (const subject of subjects) runs.push([subject, await runSubject(subject, rounds)])
    const calls = rounds * urls
    const rows: CountedRow[] = runs.map(([subject, counts]) => ({
      case: `${rounds} rounds × ${urls} URLs`,
      subject: subject.name,
      role: subject.role,
      values: [calls, counts.full, counts.notModified, counts.bytes / 1024],
    }))
    const [[, bw]] = runs as [[Subject, Counts], ...[Subject, Counts][]]
    const checks: Check[] = [
      {
        name: 'breakwater spent one full answer per URL, 304s after',
        ok: bw.full === urls && bw.notModified === (rounds - 1) * urls,
        detail: `${bw.full} full answers, ${bw.notModified} × 304 for ${calls} calls`,
      },
    ]
    const configs = Object.fromEntries(subjects.map((s) => [s.name, s.config]))
    configs.upstream = `${bodyBytes / 1024} KiB bodies with an ETag and max-age=${maxAge}; 304 to a matching If-None-Match; only 200s count as quota; rounds ${maxAge * 1_000 + 150} ms apart`
    return countedResult(revalidate, {
      checks,
      counted: {
        columns: [
          { name: 'calls', unit: 'count' },
          { name: 'quota spent (200s)', unit: 'count' },
          { name: '304s', unit: 'count' },
          { name: 'upstream body KiB', unit: 'count' },
        ],
        rows,
        configs,
      },
    })
  },
}
