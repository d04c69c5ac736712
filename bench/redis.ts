import { createClient } from '@redis/client'

/** The Redis server the Redis scenarios run against, or why there is none. */
export type RedisServer =
  | { readonly url: string; readonly why?: undefined }
  | { readonly url?: undefined; readonly why: string }

/** ms the runner waits for the server's PING before skipping the Redis scenarios. */
const pingTimeout = 2_000

/**
 * The server of `--redis URL` or `REDIS_URL` if it answers PING; otherwise why the Redis
 * scenarios are skipped. Messages name the host, never the URL's credentials.
 */
export async function redisServer(url: string | undefined): Promise<RedisServer> {
  if (url === undefined || url === '') return { why: 'no --redis URL and no REDIS_URL' }
  let host = '?'
  try {
    host = new URL(url).host
  } catch {
    return { why: 'the Redis URL does not parse' }
  }
  const client = createClient({
    url,
    disableOfflineQueue: true,
    socket: { connectTimeout: pingTimeout, reconnectStrategy: false },
  })
  client.on('error', () => {})
  try {
    await client.connect()
    await client.ping()
    return { url }
  } catch (error) {
    return { why: `Redis at ${host} did not answer PING (${(error as Error).message})` }
  } finally {
    if (client.isOpen) client.destroy()
  }
}
