import type { CallInfo } from './call-info.js'

/** What a cost function, a bucket key or a concurrency key may read of a call. */
export interface CallDetails extends CallInfo {
  /** Request headers (fetch only). */
  readonly headers: Headers | undefined
  /** Request body (fetch only). */
  readonly body: Uint8Array | undefined
  /** Arguments (wrap only). */
  readonly args: readonly unknown[] | undefined
}
