import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { createFetch, wrap } from '../../src/index.js'
import { ChildScript } from '../helpers/child-process.js'
import { redisUrl, testNamespace } from '../helpers/redis.js'
import { reply, useUpstream } from '../helpers/upstream.js'

const script = fileURLToPath(new URL('../helpers/fixtures/child-cache-command.ts', import.meta.url))

const suite = useUpstream()
const { up, make } = suite

/** Every GET answers fresh for a minute, varying on `x-v`, its body counting the requests. */
const varying = () =>
  up.handle((req, res, _seen, n) =>
    reply(res, 200, `${req.headers['x-v'] ?? '-'} ${n}`, {
      'cache-control': 'max-age=60',
      vary: 'x-v',
    }),
  )

const text = async (res: Promise<Response>) => (await res).text()

describe('the cache, commanded', () => {
  it('deletes every variant of a URL for the credentials given, no one else', async () => {
    const fetch = make()
    varying()
    const alice = { authorization: 'Bearer alice' }
    await text(fetch(`${up.url}/d`, { headers: { ...alice, 'x-v': '1' } }))
    await text(fetch(`${up.url}/d`, { headers: { ...alice, 'x-v': '2' } }))
    await text(fetch(`${up.url}/d`, { headers: { authorization: 'Bearer bob' } }))
    await fetch.cache.delete(`${up.url}/d`, { headers: alice })
    expect(await text(fetch(`${up.url}/d`, { headers: { ...alice, 'x-v': '1' } }))).toBe('1 3')
    expect(await text(fetch(`${up.url}/d`, { headers: { ...alice, 'x-v': '2' } }))).toBe('2 4')
    expect(await text(fetch(`${up.url}/d`, { headers: { authorization: 'Bearer bob' } }))).toBe(
      '- 2',
    )
  })

  it('drops what calls with a tag stored, and leaves the rest', async () => {
    const fetch = make()
    varying()
    await text(fetch(`${up.url}/a`, { breakwater: { tags: ['user:42'] } }))
    await text(fetch(`${up.url}/b`, { breakwater: { tags: ['user:42', 'team:1'] } }))
    await text(fetch(`${up.url}/c`, { breakwater: { tags: ['team:1'] } }))
    await fetch.cache.invalidateTag('user:42')
    expect(await text(fetch(`${up.url}/a`))).toBe('- 3')
    expect(await text(fetch(`${up.url}/b`))).toBe('- 4')
    expect(await text(fetch(`${up.url}/c`))).toBe('- 2')
    await fetch.cache.clear()
    expect(await text(fetch(`${up.url}/c`))).toBe('- 5')
  })

  it('refuses bad tags, naming the option and the value', async () => {
    const fetch = make()
    await expect(fetch(`${up.url}/t`, { breakwater: { tags: [''] } })).rejects.toThrow(
      'breakwater.tags must be at most 32 non-empty strings, got [""]',
    )
    await expect(fetch.cache.invalidateTag('')).rejects.toThrow(
      'tag must be a non-empty string, got ""',
    )
  })

  it('commands a wrapped function by its arguments', async () => {
    let calls = 0
    const double = wrap(async (n: number) => ({ n: n * 2, call: calls++ }))
    try {
      await double.with({ tags: ['doubles'] })(1)
      await double(2)
      await double.cache.delete(2)
      expect(await double(2)).toEqual({ n: 4, call: 2 })
      expect(await double(1)).toEqual({ n: 2, call: 0 })
      await double.cache.invalidateTag('doubles')
      expect(await double(1)).toEqual({ n: 2, call: 3 })
      await double.cache.clear()
      expect(await double(2)).toEqual({ n: 4, call: 4 })
    } finally {
      await double.close()
    }
  })

  it('does nothing without a cache', async () => {
    const fetch = make({ cache: false })
    await fetch.cache.delete(`${up.url}/none`)
    await fetch.cache.invalidateTag('x')
    await fetch.cache.clear()
  })

  it('is seen by every instance sharing the cache through Redis', async () => {
    const namespace = testNamespace('commands')
    const open = () => {
      const f = createFetch({ redis: redisUrl(), namespace, retry: false })
      return f
    }
    const a = open()
    const b = open()
    try {
      varying()
      await text(a(`${up.url}/shared`, { breakwater: { tags: ['t'] } }))
      await text(a(`${up.url}/other`))
      expect(await text(b(`${up.url}/shared`))).toBe('- 0')
      await b.cache.invalidateTag('t')
      expect(await text(a(`${up.url}/shared`))).toBe('- 2')
      await b.cache.delete(`${up.url}/other`)
      expect(await text(a(`${up.url}/other`))).toBe('- 3')
      expect(up.requests).toHaveLength(4)
    } finally {
      await Promise.all([a.close(), b.close()])
    }
  })

  it.each([
    ['invalidateTag', 'shared-tag'],
    ['delete', '/by-url'],
  ])('is seen in this process when another process commands %s', async (command, target) => {
    const namespace = testNamespace('command-child')
    const fetch = createFetch({ redis: redisUrl(), namespace, retry: false })
    try {
      varying()
      const url = `${up.url}/by-url`
      await text(fetch(url, { breakwater: { tags: ['shared-tag'] } }))
      expect(await text(fetch(url))).toBe('- 0')
      const child = new ChildScript<{ done: boolean }>(script, [
        redisUrl(),
        namespace,
        command,
        target.startsWith('/') ? `${up.url}${target}` : target,
      ])
      await child.ready
      child.go()
      expect(await child.result).toEqual({ done: true })
      expect(await text(fetch(url))).toBe('- 1')
    } finally {
      await fetch.close()
    }
  })
})
