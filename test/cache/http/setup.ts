import type { CacheOptions } from '../../../src/cache/options.js'
import type { BreakwaterRequestInit } from '../../../src/fetch-call.js'
import { createManualTime } from '../../helpers/manual-time.js'
import { reply, type UpstreamSuite } from '../../helpers/upstream.js'

/** A fetch on manual time over the suite's upstream, and a GET that reads the answer whole. */
export function httpCacheSetup(suite: UpstreamSuite, cache: CacheOptions = {}) {
  const { up, make } = suite
  const time = createManualTime()
  const fetch = make({ clock: time, timers: time, retry: false, timeout: 0, cache })
  const get = async (path: string, init: BreakwaterRequestInit = {}) => {
    const res = await fetch(`${up.url}${path}`, init)
    const text = await res.text()
    return { res, text, status: res.status, header: (name: string) => res.headers.get(name) }
  }
  /** Answers every request with `headers` and a body counting the requests. */
  const answer = (headers: Record<string, string>, status = 200) =>
    up.handle((_req, res, _seen, n) => reply(res, status, `answer ${n}`, headers))
  const httpDate = (offsetMs: number) => new Date(time.now() + offsetMs).toUTCString()
  return { time, fetch, get, answer, httpDate }
}
