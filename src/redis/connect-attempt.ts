import type { RedisLike } from './redis-client.js'
import { afterReads } from './timed.js'

/** What one connect attempt needs of the connection it opens. */
export interface ConnectAttempt {
  readonly client: RedisLike
  /** The client was opened here: its handshake is bounded, its socket ours to drop. */
  readonly owned: boolean
  /** ms the handshake may take once the socket is connected. */
  readonly timeout: number
  /** The connection was closed meanwhile: a socket that lands now is dropped at once. */
  readonly closed: () => boolean
  /** Drops the client's socket, rejecting what is pending on it. */
  readonly destroy: () => void
  /** Set to the way to cut the handshake while one is under way, `undefined` once it is over. */
  readonly onHandshake: (drop: (() => void) | undefined) => void
  /** The client connected. */
  readonly onConnected: () => void
  /** The attempt is over, connected or not, before the promise returned settles. */
  readonly onEnded: () => void
}

/**
 * Connects the client once, with the handshake bounded. node-redis bounds the TCP (and TLS)
 * connect by `connectTimeout`, but not the handshake that follows: a server that accepts and
 * never answers would hold the connect, and `close` behind it, for ever. Ours get `timeout` ms
 * for it, like any operation. The promise never rejects: failures reach callers through `run`.
 */
export function connectAttempt(attempt: ConnectAttempt): Promise<void> {
  const { client, owned } = attempt
  let cancelTimer = () => {}
  let ended = () => {}
  // Ends the attempt when we cut it: node-redis' own promise may then never settle (a
  // handshake cut before it was written waits for ever), and must not hold `close`.
  const cut = new Promise<void>((resolve) => {
    ended = resolve
  })
  const drop = () => {
    attempt.destroy()
    ended()
  }
  const onSocket = () => {
    if (attempt.closed()) return drop()
    attempt.onHandshake(drop)
    cancelTimer = afterReads(attempt.timeout, drop)
  }
  if (owned) client.on('connect', onSocket)
  const connected = client.connect().then(attempt.onConnected, () => {})
  return Promise.race([connected, cut]).finally(() => {
    cancelTimer()
    attempt.onHandshake(undefined)
    client.off('connect', onSocket)
    attempt.onEnded()
  })
}
