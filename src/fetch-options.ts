/**
 * Per-call options through an SDK. The Anthropic and OpenAI SDKs spread a request's
 * `fetchOptions` into the init they hand their `fetch`, so `init.breakwater` reaches
 * `createFetch`; but they type `fetchOptions` as the runtime's `RequestInit` (a weak type), which
 * refuses `{ breakwater }` even from a variable. Declaring the field on the global `RequestInit`
 * is the one way a literal `fetchOptions: { breakwater: { ttl } }` type-checks without a cast.
 *
 * The cost: `globalThis.fetch(url, { breakwater })` type-checks too, and the global fetch ignores
 * it, as every fetch but breakwater's does.
 */
import type { CallOptions } from './core/call-options.js'

declare global {
  interface RequestInit {
    /**
     * breakwater's options for this one call, read by a `createFetch` fetch (directly, or
     * through an SDK's `fetchOptions`); every other fetch ignores them.
     */
    breakwater?: CallOptions
  }
}

/**
 * What an SDK's per-request `fetchOptions` carries for breakwater.
 *
 * @example
 * await client.messages.create(params, { fetchOptions: { breakwater: { ttl: 60_000 } } })
 */
export interface BreakwaterFetchOptions {
  breakwater?: CallOptions
}
