import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { createFetch } from '../../src/index.js'
import { type BreakwaterQueue, createQueue } from '../../src/queue/index.js'
import { rawClient, redisUrl, testNamespace } from '../helpers/redis.js'
import { runCli } from '../helpers/run-cli.js'
import { reply, useUpstream } from '../helpers/upstream.js'

const { up } = useUpstream()
// One BullMQ prefix per suite and run: no other suite sees these queues.
const prefix = testNamespace('queue').replaceAll(':', '-')
const open: BreakwaterQueue[] = []
let made = 0

afterEach(async () => {
  await Promise.all(open.splice(0).map((q) => q.close({ timeout: 1_000 })))
})
afterAll(async () => {
  const client = await rawClient()
  for await (const keys of client.scanIterator({ MATCH: `${prefix}:*`, COUNT: 1_000 })) {
    if (keys.length > 0) await client.del(keys)
  }
  await client.close()
})

function queue(options: Partial<Parameters<typeof createQueue>[0]> = {}) {
  made++
  const q = createQueue({
    name: `q${made}`,
    prefix,
    redis: redisUrl(),
    lease: 1_000,
    fetch: { redis: redisUrl(), namespace: `${prefix}-bw`, retry: false, cache: false },
    backoff: { delay: 20, jitter: 0 },
    ...options,
  })
  open.push(q)
  return { q, name: `q${made}` }
}

const cli = (name: string, ...args: string[]) =>
  runCli(['queue', ...args, '--redis', redisUrl(), '--name', name, '--prefix', prefix])

describe('createQueue on Redis (BullMQ)', () => {
  it('completes a keyed POST and keeps its result for get()', async () => {
    const { q } = queue()
    const id = await q.add({ method: 'POST', url: `${up.url}/a`, body: 'x' }, { id: 'post-1' })
    expect(id).toBe('post-1')
    const info = await q.wait(id, { timeout: 10_000 })
    expect(info).toMatchObject({ state: 'completed', attemptsMade: 1, result: { status: 200 } })
    expect(up.requests[0]?.headers['idempotency-key']).toBe('post-1')
    expect(info.history.map((h) => h.event)).toEqual(['started', 'completed'])
    expect(await q.add({ method: 'POST', url: up.url, body: 'y' }, { id: 'post-1' })).toBe('post-1')
    await new Promise((r) => setTimeout(r, 100))
    expect(up.requests).toHaveLength(1)
  })

  it('replays the recorded outcome when a job whose call was recorded runs again', async () => {
    up.handle((_req, res) => reply(res, 201, 'made once'))
    // A run that recorded its call and died before the queue heard of it, as seen from Redis.
    const earlier = createFetch({ redis: redisUrl(), namespace: `${prefix}-bw`, cache: false })
    const request = { method: 'POST', url: `${up.url}/orders`, body: '{"n":7}' }
    await (
      await earlier(request.url, { ...request, breakwater: { idempotencyKey: 'rec-1' } })
    ).text()
    await earlier.close()
    const { q } = queue()
    const info = await q.wait(await q.add(request, { id: 'rec-1' }), { timeout: 10_000 })
    expect(info).toMatchObject({
      state: 'completed',
      result: { status: 201, body: 'made once', replayed: true },
    })
    expect(up.requests).toHaveLength(1)
  })

  // Each CLI run starts a process under tsx, seconds each: hence the longer timeout.
  it('round-trips the dead-letter list: dead with its history, retried from the CLI once fixed', async () => {
    up.handle((_req, res) => reply(res, 500, 'down'))
    const { q, name } = queue({ attempts: 2 })
    const id = await q.add({
      method: 'POST',
      url: `${up.url}/charge`,
      headers: { 'x-api-key': 'sk-secret' },
      body: '{"n":1}',
    })
    const info = await q.wait(id, { timeout: 10_000 })
    expect(info).toMatchObject({ state: 'dead', attemptsMade: 2, error: 'upstream answered 500' })
    expect(info.history.map((h) => h.event)).toEqual(['started', 'failed', 'started', 'dead'])
    expect(info.history[1]).toMatchObject({ reason: 'upstream answered 500', delay: 20 })

    const listed = await cli(name, 'dead')
    expect(listed.code).toBe(0)
    expect(listed.stdout).toContain(
      `${id}  POST ${up.url}/charge  attempts 2  upstream answered 500`,
    )
    expect(listed.stdout).toContain('1 dead jobs')
    const json = await cli(name, 'dead', '--json')
    expect(JSON.parse(json.stdout).data.request.headers['x-api-key']).toBe('[redacted]')
    expect(json.stdout).not.toContain('sk-secret')
    expect((await cli(name, 'stats')).stdout).toContain('dead 1')

    up.handle((_req, res) => reply(res, 200, 'charged'))
    const retried = await cli(name, 'retry', id)
    expect(retried).toMatchObject({ code: 0, stdout: `sent ${id} back to wait\n` })
    const done = await q.wait(id, { timeout: 10_000 })
    expect(done).toMatchObject({ state: 'completed', result: { body: 'charged' } })
    expect(done.history.map((h) => h.event).slice(-3)).toEqual(['retried', 'started', 'completed'])
    expect(up.requests.filter((r) => r.url === '/charge')).toHaveLength(3)
    expect((await cli(name, 'retry', id)).code).toBe(1)
  }, 60_000)

  it('sends a 4xx straight to the list, and purges it', async () => {
    up.handle((_req, res) => reply(res, 422, 'nope'))
    const { q, name } = queue()
    const ids = [await q.add({ url: up.url }), await q.add({ url: up.url })]
    for (const id of ids) expect((await q.wait(id, { timeout: 10_000 })).attemptsMade).toBe(1)
    expect(await q.dead.list()).toHaveLength(2)
    expect((await cli(name, 'purge')).stdout).toBe('purged 2 dead jobs\n')
    expect(await q.counts()).toMatchObject({ dead: 0 })
  })

  it('puts a job off for a Retry-After without spending an attempt', async () => {
    up.handle((_req, res, _seen, index) =>
      index === 0 ? reply(res, 429, '', { 'retry-after-ms': '100' }) : reply(res, 200, 'ok'),
    )
    const { q } = queue({ attempts: 1 })
    const info = await q.wait(await q.add({ url: up.url }), { timeout: 10_000 })
    expect(info).toMatchObject({ state: 'completed', attemptsMade: 1 })
    expect(info.history.map((h) => h.event)).toEqual(['started', 'paused', 'started', 'completed'])
  })

  it('hands a running job back on close(), and another worker completes it', async () => {
    let answer = false
    up.handle((_req, res) => {
      if (answer) reply(res, 200, 'second')
    })
    const first = queue({ name: 'handback' })
    const id = await first.q.add({ method: 'POST', url: up.url, body: 'b' })
    while (up.requests.length === 0) await new Promise((r) => setTimeout(r, 10))
    await first.q.close({ timeout: 100 })
    answer = true
    const second = queue({ name: 'handback' })
    const info = await second.q.wait(id, { timeout: 10_000 })
    expect(info).toMatchObject({ state: 'completed', attemptsMade: 1, result: { body: 'second' } })
    expect(info.history.map((h) => h.event)).toEqual([
      'started',
      'handedBack',
      'started',
      'completed',
    ])
  })

  it('prints the counts every second with --watch until the queue is drained', async () => {
    const { q, name } = queue()
    await q.wait(await q.add({ url: up.url }), { timeout: 10_000 })
    const watched = await cli(name, 'stats', '--watch')
    expect(watched.code).toBe(0)
    expect(watched.stdout).toMatch(
      /waiting 0 {2}delayed 0 {2}active 0 {2}completed 1 {2}dead 0\ndrained\n$/,
    )
  })
})
