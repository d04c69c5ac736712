import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { ErrorReply, SimpleError } from '@redis/client'
import { describe, expect, it } from 'vitest'
import { isErrorReply, loadPeer, missingPeerMessage } from '../../src/redis/peer.js'

const run = promisify(execFile)
const script = fileURLToPath(new URL('../helpers/fixtures/without-redis.ts', import.meta.url))

interface Outcome {
  readonly loaded: readonly string[]
  readonly plain: string | null
  readonly redisFetch: string | null
  readonly redisWrap: string | null
  readonly redisNoCache: string | null
}

/** breakwater in a child process where the packages `hidden` resolve as not installed. */
async function withoutPackages(...hidden: string[]): Promise<Outcome> {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', script, ...hidden])
  return JSON.parse(stdout) as Outcome
}

describe('Redis packages as optional peers', () => {
  it('names the package to install', () => {
    expect(missingPeerMessage('@redis/client')).toBe(
      'redis needs the @redis/client package: npm install @redis/client',
    )
  })

  it('knows an ErrorReply and its subclasses by class, and nothing else', () => {
    expect(isErrorReply(new ErrorReply('ERR wrong'))).toBe(true)
    expect(isErrorReply(new SimpleError('WRONGTYPE'))).toBe(true)
    expect(isErrorReply(new Error('ERR wrong'))).toBe(false)
    expect(isErrorReply({ message: 'ERR', constructor: { name: 'ErrorReply' } })).toBe(false)
  })

  it('loads an installed package once per process', async () => {
    const first = loadPeer('@keyv/redis')
    expect(loadPeer('@keyv/redis')).toBe(first)
    expect(await first).toHaveProperty('default')
  })

  it('imports neither undici nor @redis/client with breakwater, and builds without Redis', async () => {
    const outcome = await withoutPackages()
    expect(outcome).toEqual({
      loaded: [],
      plain: null,
      redisFetch: null,
      redisWrap: null,
      redisNoCache: null,
    })
  })

  it('fails at construction, naming @redis/client, when a Redis URL is given without it', async () => {
    const outcome = await withoutPackages('@redis/client', '@keyv/redis')
    const message = 'redis needs the @redis/client package: npm install @redis/client'
    expect(outcome).toEqual({
      loaded: [],
      plain: null,
      redisFetch: message,
      redisWrap: message,
      redisNoCache: message,
    })
  })

  it('asks for @keyv/redis only when the cache is kept in Redis', async () => {
    const outcome = await withoutPackages('@keyv/redis')
    const message = 'redis needs the @keyv/redis package: npm install @keyv/redis'
    expect(outcome).toMatchObject({ redisFetch: message, redisWrap: message, redisNoCache: null })
  })
})
