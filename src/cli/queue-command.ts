/** `breakwater queue`: a queue's counts (live with --watch) and its dead-letter list. */
import { setTimeout as sleep } from 'node:timers/promises'
import { parseArgs } from 'node:util'
import type { BreakwaterQueue, JobInfo, QueueCounts } from '../queue/index.js'
import { parseFlags, UsageError } from './args.js'

export const queueUsage = `usage: breakwater queue <stats|dead|retry|purge> --redis URL [--name Q] [--prefix P]

  stats            jobs per state; --watch prints them every second until the queue is
                   drained (nothing waiting, delayed or active) or interrupted
  dead             the dead-letter list, oldest first: id, attempts, last error and every
                   attempt's time and reason (--json: the jobs as JSON lines, credentials redacted)
  retry ID | --all send one dead job, or all of them, back to wait with their attempts reset
  purge            delete every dead job

  --redis URL      the queue's Redis (or set REDIS_URL)
  --name Q         the queue's name (default: default)
  --prefix P       its BullMQ prefix (default: bwq)
  --help           this text`

const subcommands = ['stats', 'dead', 'retry', 'purge'] as const

export async function queueCommand(args: readonly string[]): Promise<number> {
  const [sub, ...rest] = args
  if (sub === undefined || sub === '--help' || sub === '-h') {
    ;(sub === undefined ? console.error : console.log)(queueUsage)
    return sub === undefined ? 2 : 0
  }
  if (!(subcommands as readonly string[]).includes(sub)) {
    throw new UsageError(`unknown queue command ${JSON.stringify(sub)}: ${subcommands.join(', ')}`)
  }
  const { values, positionals } = parseFlags(
    () =>
      parseArgs({
        args: rest,
        options: {
          redis: { type: 'string' },
          name: { type: 'string', default: 'default' },
          prefix: { type: 'string', default: 'bwq' },
          watch: { type: 'boolean', default: false },
          json: { type: 'boolean', default: false },
          all: { type: 'boolean', default: false },
        },
        allowPositionals: true,
        strict: true,
      }),
    sub === 'retry' ? 1 : 0,
  )
  const redis = values.redis ?? process.env.REDIS_URL
  if (redis === undefined) throw new UsageError('--redis URL is required (or set REDIS_URL)')
  const { createQueue } = await import('../queue/index.js')
  let queue: BreakwaterQueue
  try {
    queue = createQueue({ name: values.name, prefix: values.prefix, redis, worker: false })
  } catch (error) {
    throw new UsageError((error as Error).message)
  }
  try {
    if (sub === 'stats') return await stats(queue, values.watch)
    if (sub === 'dead') return await dead(queue, values.json)
    if (sub === 'retry') return await retry(queue, positionals[0], values.all)
    console.log(`purged ${await queue.dead.purge()} dead jobs`)
    return 0
  } finally {
    await queue.close()
  }
}

const line = (c: QueueCounts) =>
  `waiting ${c.waiting}  delayed ${c.delayed}  active ${c.active}  completed ${c.completed}  dead ${c.dead}`

async function stats(queue: BreakwaterQueue, watch: boolean): Promise<number> {
  if (!watch) {
    console.log(line(await queue.counts()))
    return 0
  }
  let stopped = false
  const stop = () => {
    stopped = true
  }
  process.once('SIGINT', stop)
  try {
    for (;;) {
      const counts = await queue.counts()
      console.log(`${new Date().toISOString()}  ${line(counts)}`)
      if (counts.waiting + counts.delayed + counts.active === 0) {
        console.log('drained')
        return 0
      }
      await sleep(1_000)
      if (stopped) return 130
    }
  } finally {
    process.off('SIGINT', stop)
  }
}

async function dead(queue: BreakwaterQueue, json: boolean): Promise<number> {
  let shown = 0
  for (let start = 0; ; start += 100) {
    const page = await queue.dead.list({ start, count: 100 })
    for (const job of page) console.log(json ? JSON.stringify(job) : describe(job))
    shown += page.length
    if (page.length < 100) break
  }
  if (!json) console.log(`${shown} dead jobs`)
  return 0
}

function describe(job: JobInfo): string {
  const what =
    job.data.kind === 'http'
      ? `${job.data.request.method ?? 'GET'} ${job.data.request.url}`
      : `call ${job.data.name}`
  const history = job.history.map(
    (h) =>
      `    ${new Date(h.at).toISOString()}  ${h.event}${h.reason === undefined ? '' : `  ${h.reason}`}`,
  )
  return [`${job.id}  ${what}  attempts ${job.attemptsMade}  ${job.error ?? ''}`, ...history].join(
    '\n',
  )
}

async function retry(
  queue: BreakwaterQueue,
  id: string | undefined,
  all: boolean,
): Promise<number> {
  if (all === (id !== undefined)) throw new UsageError('retry takes one job id, or --all')
  if (all) {
    console.log(`sent ${await queue.dead.retryAll()} dead jobs back to wait`)
    return 0
  }
  if (!(await queue.dead.retry(id as string))) {
    console.error(`breakwater: job ${JSON.stringify(id)} is not in the dead-letter list`)
    return 1
  }
  console.log(`sent ${id} back to wait`)
  return 0
}
