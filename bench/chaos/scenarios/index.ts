import type { ChaosScenario } from '../scenario.js'
import { badOptionsScenario } from './bad-options.js'
import { credentials } from './credentials.js'
import { malformedHeaders } from './malformed-headers.js'
import { memory } from './memory.js'
import { redisChaos } from './redis-chaos.js'
import { switch429 } from './switch-429.js'
import { upstreamFaults } from './upstream-faults.js'

/** Every chaos scenario, in the order they run. A new one is a file here and a line below. */
export const chaosScenarios: readonly ChaosScenario[] = [
  upstreamFaults,
  redisChaos,
  switch429,
  memory,
  badOptionsScenario,
  malformedHeaders,
  credentials,
]
