import Keyv from 'keyv'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openai } from '../../src/ai/index.js'
import { rawClient, redisUrl, testNamespace } from '../helpers/redis.js'
import { reply, useUpstream } from '../helpers/upstream.js'

const { up, make } = useUpstream()

const bearer = { authorization: 'Bearer alice' }

/** Answers with `cache-control` as the request's `?cc=` asks (none when absent). */
const byQuery = () =>
  up.handle((req, res, _seen, index) => {
    const cc = new URL(req.url ?? '/', 'http://x').searchParams.get('cc')
    reply(res, 200, `answer ${index}`, cc === null ? {} : { 'cache-control': cc })
  })

/** Upstream arrivals for two identical calls to `path`. */
async function arrivalsFor(fetch: ReturnType<typeof make>, path: string, init: RequestInit) {
  const before = up.requests.length
  for (let i = 0; i < 2; i++) await (await fetch(`${up.url}${path}`, init)).text()
  return up.requests.length - before
}

describe('createFetch cache, answers to Authorization in a shared store', () => {
  it('does not store them in a given Keyv store unless the answer allows sharing', async () => {
    byQuery()
    const fetch = make({ cache: { store: new Keyv() } })
    expect(await arrivalsFor(fetch, '/me', { headers: bearer })).toBe(2)
    expect(await arrivalsFor(fetch, '/me?cc=max-age%3D60', { headers: bearer })).toBe(2)
    expect(await arrivalsFor(fetch, '/me?cc=private', { headers: bearer })).toBe(2)
    for (const cc of ['public', 's-maxage=60', 'max-age=60, must-revalidate']) {
      const path = `/me?cc=${encodeURIComponent(cc)}`
      expect(await arrivalsFor(fetch, path, { headers: bearer }), cc).toBe(1)
    }
    expect(await arrivalsFor(fetch, '/anyone', {})).toBe(1)
  })

  it('stores them in the private memory store, or when told the store is not shared', async () => {
    byQuery()
    expect(await arrivalsFor(make(), '/me', { headers: bearer })).toBe(1)
    const own = make({ cache: { store: new Keyv(), shared: false } })
    expect(await arrivalsFor(own, '/me', { headers: bearer })).toBe(1)
  })

  it('stores them without HTTP semantics, as the LLM presets cache: by key, credential in', async () => {
    byQuery()
    const preset = openai({ cache: { store: new Keyv() } })
    const fetch = make({ ...preset, rateLimit: [] })
    const init = (key: string) => ({
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'm', temperature: 0, messages: [] }),
    })
    expect(await arrivalsFor(fetch, '/v1/chat/completions', init('alice'))).toBe(1)
    expect(await arrivalsFor(fetch, '/v1/chat/completions', init('bob'))).toBe(1)
  })

  describe('on Redis', () => {
    let redis: Awaited<ReturnType<typeof rawClient>>
    beforeAll(async () => {
      redis = await rawClient()
    })
    afterAll(() => redis.destroy())

    it('stores them only when the answer allows sharing', async () => {
      byQuery()
      const namespace = testNamespace('authorization')
      const fetch = make({ redis: redisUrl(), namespace, retry: false })
      expect(await arrivalsFor(fetch, '/me?cc=max-age%3D60', { headers: bearer })).toBe(2)
      expect(await redis.keys(`${namespace}:cache:*`)).toHaveLength(0)
      expect(await arrivalsFor(fetch, '/me?cc=public', { headers: bearer })).toBe(1)
      expect(await redis.keys(`${namespace}:cache:*`)).toHaveLength(1)
    })
  })
})
