import { afterAll, beforeAll } from 'vitest'

// Resources that keep the event loop alive; unref'd timers and sockets do not count.
const active = () => process.getActiveResourcesInfo().filter((r) => r !== 'TTYWrap')

function countOf(list: string[]): Map<string, number> {
  const counts = new Map<string, number>()
  for (const r of list) counts.set(r, (counts.get(r) ?? 0) + 1)
  return counts
}

let before = new Map<string, number>()

beforeAll(() => {
  before = countOf(active())
})

// Registered first, so it runs after every afterAll of the test file: whatever a file opened
// (servers, sockets, timers) must be closed by then.
afterAll(async () => {
  let leaked: string[] = []
  for (let i = 0; i < 40; i++) {
    leaked = []
    for (const [type, n] of countOf(active())) {
      const extra = n - (before.get(type) ?? 0)
      if (extra > 0) leaked.push(`${type} x${extra}`)
    }
    if (leaked.length === 0) return
    await new Promise((resolve) => setImmediate(resolve))
    await new Promise((resolve) => setTimeout(resolve, 5).unref())
  }
  throw new Error(`open handles left behind by this file: ${leaked.join(', ')}`)
}, 5_000)
