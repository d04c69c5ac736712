import { Agent, fetch as undiciFetch } from 'undici'
import { describe, expect, expectTypeOf, it } from 'vitest'
import type { CreateFetchOptions, FetchLike } from '../../src/index.js'
import { echoOf, useUpstream } from '../helpers/upstream.js'

const { up, make } = useUpstream()

describe('FetchLike', () => {
  // Checked by tsc (npm test runs it over test/): each line failed with TS2322 before.
  it('takes globalThis.fetch, undici fetch and a wrapper of either without a cast', () => {
    const global: FetchLike = globalThis.fetch
    const undici: FetchLike = undiciFetch
    const wrapper: FetchLike = (input, init) => globalThis.fetch(input, init)
    const options: CreateFetchOptions = { fetch: undiciFetch }
    expectTypeOf(globalThis.fetch).toExtend<FetchLike>()
    expectTypeOf(undiciFetch).toExtend<FetchLike>()
    expect([global, undici, wrapper, options.fetch]).toHaveLength(4)
  })

  it('gives a wrapper headers it can read as a Headers', () => {
    expectTypeOf<Parameters<FetchLike>[1]['headers']>().toExtend<Headers>()
  })
})

describe('createFetch({ fetch })', () => {
  it('sends every attempt through globalThis.fetch', async () => {
    const fetch = make({ fetch: globalThis.fetch, cache: false })
    const res = await fetch(`${up.url}/global`, { headers: { 'x-probe': '1' } })
    expect(await echoOf(res)).toMatchObject({ method: 'GET', url: '/global' })
    expect(up.requests[0]?.headers['x-probe']).toBe('1')
  })

  it('sends a POST body through undici fetch on a dispatcher of the caller', async () => {
    const agent = new Agent()
    const fetch = make({
      fetch: (input, init) => undiciFetch(input, { ...init, dispatcher: agent }),
      cache: false,
    })
    const res = await fetch(`${up.url}/undici`, { method: 'POST', body: 'hello' })
    expect(await echoOf(res)).toMatchObject({ method: 'POST', url: '/undici' })
    expect(up.requests[0]?.body).toBe('hello')
    await fetch.close()
    await agent.close()
  })

  it('hands a given fetch a Headers it can read', async () => {
    const seen: (string | null)[] = []
    const fetch = make({
      fetch: (input, init) => {
        seen.push(init.headers.get('x-probe'))
        return globalThis.fetch(input, init)
      },
      cache: false,
    })
    await (await fetch(`${up.url}/read`, { headers: { 'x-probe': 'seen' } })).text()
    expect(seen).toEqual(['seen'])
  })
})
