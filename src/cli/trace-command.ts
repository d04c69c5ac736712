/** `breakwater trace synth`: writes a synthetic trace that `breakwater replay` reads. */
import { once } from 'node:events'
import { createWriteStream } from 'node:fs'
import type { Writable } from 'node:stream'
import { parseArgs } from 'node:util'
import { maxZipfKeys } from '../replay/random.js'
import { synthRequests } from '../replay/synth.js'
import { countFlag, parseFlags, parseNumber, UsageError } from './args.js'
import { count } from './table.js'

export const traceUsage = `usage: breakwater trace synth --requests N --keys K --zipf S [--rate R] [--seed N] [--out FILE]

Writes a synthetic trace as JSON Lines, one {"t", "method", "url", "bytes"} a line: keys
/items/1 … /items/K drawn from a Zipf law, arriving as a Poisson process. The same seed
writes the same trace.

  --requests N  requests in the trace (10k and 1M read too)
  --keys K      distinct keys, at most ${count(maxZipfKeys)}
  --zipf S      Zipf exponent: 0 is uniform; 0.8 to 1.2 is typical of API traffic
  --rate R      mean requests per second (default 100)
  --seed N      seed of the generator (default 1)
  --out FILE    where to write (default: stdout)
  --help        this text`

export async function traceCommand(args: readonly string[]): Promise<number> {
  const [sub, ...rest] = args
  if (sub === undefined || sub === '--help' || sub === '-h') {
    ;(sub === undefined ? console.error : console.log)(traceUsage)
    return sub === undefined ? 2 : 0
  }
  if (sub !== 'synth')
    throw new UsageError(`unknown trace command ${JSON.stringify(sub)}: only synth`)
  const { values } = parseFlags(() =>
    parseArgs({
      args: rest,
      options: {
        requests: { type: 'string' },
        keys: { type: 'string' },
        zipf: { type: 'string' },
        rate: { type: 'string', default: '100' },
        seed: { type: 'string', default: '1' },
        out: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: true,
      strict: true,
    }),
  )
  if (values.help) {
    console.log(traceUsage)
    return 0
  }
  const required = (flag: 'requests' | 'keys' | 'zipf'): string => {
    const value = values[flag]
    if (value === undefined) throw new UsageError(`--${flag} is required`)
    return value
  }
  const keys = countFlag('--keys', required('keys'))
  if (keys > maxZipfKeys) {
    throw new UsageError(`--keys: at most ${count(maxZipfKeys)}, got ${keys}`)
  }
  const seed = Number(values.seed)
  if (values.seed.trim() === '' || !Number.isSafeInteger(seed)) {
    throw new UsageError(`--seed: ${JSON.stringify(values.seed)} is not a whole number`)
  }
  const requests = synthRequests({
    requests: countFlag('--requests', required('requests')),
    keys,
    zipf: parseNumber('--zipf', required('zipf'), 0),
    rate: parseNumber('--rate', values.rate, 0, true),
    seed,
  })
  const lines = (function* () {
    for (const request of requests) yield `${JSON.stringify(request)}\n`
  })()
  if (values.out === undefined) {
    await writeAll(lines, process.stdout)
    return 0
  }
  const file = createWriteStream(values.out)
  await once(file, 'open')
  await writeAll(lines, file)
  file.end()
  await once(file, 'finish')
  console.error(`wrote ${values.out}`)
  return 0
}

/** Writes in chunks of about 64 KiB, waiting whenever the stream asks to. */
async function writeAll(lines: Iterable<string>, out: Writable): Promise<void> {
  let chunk = ''
  for (const line of lines) {
    chunk += line
    if (chunk.length < 65_536) continue
    if (!out.write(chunk)) await once(out, 'drain')
    chunk = ''
  }
  if (chunk !== '' && !out.write(chunk)) await once(out, 'drain')
}
