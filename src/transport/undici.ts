import type { FetchLike } from './fetch-transport.js'

type Undici = typeof import('undici')

/**
 * undici costs about 100 ms to import, more than the rest of breakwater together, and nothing
 * needs it before the first call: so it is imported then, once per process. Node's global fetch
 * is not a substitute: it is the undici bundled with Node (6.x on Node 20), and our Agent, like
 * our Response, must be the undici 7 the package depends on.
 */
let loaded: Undici | undefined
let loading: Promise<Undici> | undefined

/** undici, already loaded or loading; after the first call it costs no await. */
export function undici(): Undici | Promise<Undici> {
  if (loaded !== undefined) return loaded
  loading ??= import('undici').then((module) => {
    loaded = module
    return module
  })
  return loading
}

/** The default fetch: undici's on an Agent of the instance's own, made at its first call. */
export interface OwnFetch {
  readonly fetch: FetchLike
  /** Closes the Agent, if a call made it. A call that starts after this fails. */
  close(): Promise<void>
}

export function createOwnFetch(): OwnFetch {
  let agent: InstanceType<Undici['Agent']> | undefined
  let closed = false
  const fetch: FetchLike = async (input, init) => {
    const { Agent, fetch: undiciFetch } = await undici()
    // An Agent made after close() would be left open: nothing would close it.
    if (closed) throw new TypeError('breakwater fetch used after close()')
    agent ??= new Agent()
    return undiciFetch(input, { ...init, dispatcher: agent })
  }
  return {
    fetch,
    close: async () => {
      closed = true
      await agent?.close()
    },
  }
}
