import { createFetch } from '../../../src/index.js'
import { malformedAnswers } from '../malformed-answers.js'
import { startRawServer } from '../raw-server.js'
import { type ChaosScenario, Escapes, Offenders, pool, Watch } from '../scenario.js'

/**
 * Every malformed answer, twice in a row through an instance with retries, a rate-limit bucket
 * that listens to the server, and a cache: each call must settle, with an answer or an Error.
 */
export const malformedHeaders: ChaosScenario = {
  name: 'malformed-headers',
  description: 'malformed Retry-After, rate-limit, Cache-Control headers, status lines, reasons',
  async run() {
    const answers = malformedAnswers()
    const offenders = new Offenders()
    const escapes = new Escapes(offenders)
    const server = await startRawServer((path) => answers[Number(path.split('/')[1])]?.raw ?? '')
    // The bucket's own wait and the retries end well within this, whatever a header asks.
    const watch = new Watch(8_000)
    let answered = 0
    let failed = 0
    let notErrors = 0
    await pool(answers.length, 8, async (i) => {
      const fetch = createFetch({
        timeout: 2_000,
        retry: { maxAttempts: 2, baseDelay: 5, maxDelay: 20, maxRetryAfter: 1_000 },
        rateLimit: { name: 'requests', perSecond: 100, maxWait: 1_000 },
        breaker: false,
      })
      for (const round of [0, 1]) {
        const ending = await watch.run(async () =>
          (await fetch(`${server.url}/${i}/${round}`)).text(),
        )
        const name = answers[i]?.name
        if (ending.kind === 'hung') offenders.add(`hung: ${name}`)
        else if (ending.kind === 'value') answered++
        else if (ending.error instanceof Error) failed++
        else {
          notErrors++
          offenders.add(`rejected with a non-Error: ${name}`)
        }
      }
      await watch.run(() => fetch.close())
    })
    await server.close()
    await watch.drain()
    return {
      figures: [
        { name: 'malformed answers', value: answers.length, unit: 'count' },
        { name: 'calls answered', value: answered, unit: 'count' },
        { name: 'calls failed with an Error', value: failed, unit: 'count' },
        { name: 'rejections that are no Error', value: notErrors, unit: 'count', atMost: 0 },
        watch.figure(),
        ...escapes.stop(),
      ],
      offenders: offenders.lines,
    }
  },
}
