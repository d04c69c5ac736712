import { Agent, type Dispatcher, fetch as undiciFetch } from 'undici'
import type { BreakwaterFetch } from '../../src/index.js'

/** One subject of a counted scenario: a way to GET a URL, how it is configured, its shutdown. */
export interface Client {
  readonly name: string
  readonly role: 'floor' | 'subject' | 'peer'
  /** How it is configured, printed beside the figures: the fairness of a comparison is in here. */
  readonly config: string
  /** GETs `url`: resolves once a 2xx body was read whole, rejects on anything else. */
  get(url: string): Promise<void>
  /** Closes every agent, instance and timer it holds, so that the process can exit by itself. */
  close(): Promise<void>
}

/** The first path segment of a client's calls, so that the upstream counts each client apart. */
export function segmentOf(client: Pick<Client, 'name'>): string {
  return client.name.replaceAll(/[^a-z]+/g, '-')
}

/** A status ≥ 400, thrown as callers of fetch do so that their retry library sees a failure. */
export class StatusError extends Error {
  override name = 'StatusError'
  readonly status: number

  constructor(status: number) {
    super(`upstream answered ${status}`)
    this.status = status
  }
}

/** GETs `url` through `dispatcher`, reads the body whole, throws a `StatusError` on ≥ 400. */
export async function getText(url: string, dispatcher: Dispatcher): Promise<string> {
  const res = await undiciFetch(url, { dispatcher })
  const body = await res.text()
  if (res.status >= 400) throw new StatusError(res.status)
  return body
}

/** GETs `url` through `dispatcher`, reads the body whole; resolves with the status, whatever it is. */
export async function getStatus(url: string, dispatcher: Dispatcher): Promise<number> {
  const res = await undiciFetch(url, { dispatcher })
  await res.arrayBuffer()
  return res.status
}

/** A client that sends every call once, through an agent of its own: the floor of load. */
export function plainClient(name: string, config = 'undici fetch, one attempt'): Client {
  const agent = new Agent()
  return {
    name,
    role: 'floor',
    config,
    get: async (url) => {
      await getText(url, agent)
    },
    close: () => agent.close(),
  }
}

/** A breakwater fetch as a client: reads the body whole and throws on ≥ 400 as the others do. */
export function breakwaterClient(name: string, fetch: BreakwaterFetch, config: string): Client {
  return {
    name,
    role: 'subject',
    config,
    get: async (url) => {
      const res = await fetch(url)
      await res.arrayBuffer()
      if (res.status >= 400) throw new StatusError(res.status)
    },
    close: () => fetch.close(),
  }
}
