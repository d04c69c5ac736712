import { show } from '../../../src/core/validate.js'
import { createFetch, wrap } from '../../../src/index.js'
import { type BadOption, badOptions, optionsFor } from '../bad-option-values.js'
import { type ChaosScenario, Escapes, Offenders, Watch } from '../scenario.js'

type Verdict = 'refused' | 'accepted' | 'wrong class' | 'unnamed' | 'hung'

function judge(option: BadOption, error: unknown): Verdict {
  if (!(error instanceof TypeError || error instanceof RangeError)) return 'wrong class'
  return error.message.includes(option.path) ? 'refused' : 'unnamed'
}

/** Builds what the option goes into; a bad value must make it throw. */
async function attempt(option: BadOption, watch: Watch): Promise<Verdict> {
  if (option.where === 'call') {
    const fetch = createFetch({ cache: false, retry: false })
    const name = option.path.replace('breakwater.', '')
    const ending = await watch.run(async () => {
      // Port 9 (discard) has no listener here: a call that is not refused fails to connect.
      const res = await fetch('http://127.0.0.1:9/', {
        breakwater: { [name]: option.value } as never,
      })
      await res.arrayBuffer()
    })
    await fetch.close()
    if (ending.kind === 'hung') return 'hung'
    return ending.kind === 'value' ? 'accepted' : judge(option, ending.error)
  }
  try {
    const made =
      option.where === 'wrap'
        ? wrap(async () => 1, { [option.path]: option.value } as never)
        : createFetch(optionsFor(option.path, option.value) as never)
    await made.close()
    return 'accepted'
  } catch (error) {
    return judge(option, error)
  }
}

/**
 * Every option given values of the wrong type, out of range, past a timer's reach or past a
 * count's bound: each must be refused with a TypeError or RangeError naming the option.
 */
export const badOptionsScenario: ChaosScenario = {
  name: 'bad-options',
  description: 'bad option values: each refused with a TypeError or RangeError naming it',
  async run() {
    const offenders = new Offenders()
    const escapes = new Escapes(offenders)
    const watch = new Watch(5_000)
    const tally: Record<Verdict, number> = {
      refused: 0,
      accepted: 0,
      'wrong class': 0,
      unnamed: 0,
      hung: 0,
    }
    const all = badOptions()
    for (const option of all) {
      const verdict = await attempt(option, watch)
      tally[verdict]++
      if (verdict !== 'refused') offenders.add(`${option.path} = ${show(option.value)}: ${verdict}`)
    }
    await watch.drain()
    return {
      figures: [
        { name: 'bad values tried', value: all.length, unit: 'count' },
        { name: 'refused, naming the option', value: tally.refused, unit: 'count' },
        { name: 'bad values accepted', value: tally.accepted, unit: 'count', atMost: 0 },
        {
          name: 'refused with another class',
          value: tally['wrong class'],
          unit: 'count',
          atMost: 0,
        },
        { name: 'refused without naming it', value: tally.unnamed, unit: 'count', atMost: 0 },
        watch.figure(),
        ...escapes.stop(),
      ],
      offenders: offenders.lines,
    }
  },
}
