import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { afterEach, describe, expect, it } from 'vitest'
import {
  type BreakwaterEvent,
  type BreakwaterEventType,
  channelNames,
  Events,
} from '../../src/core/events.js'

const hit: BreakwaterEvent = { type: 'hit', key: 'k1', method: 'GET', target: 'https://api.test/a' }

/** Subscriptions a test made, undone after it so that the next one starts with none. */
const subscribed: Array<[string, (message: unknown) => void]> = []
afterEach(() => {
  for (const [name, listener] of subscribed.splice(0)) unsubscribe(name, listener)
})

/** Subscribes to the channel of `type` and returns what it receives. */
function listen(type: BreakwaterEventType): unknown[] {
  const seen: unknown[] = []
  const listener = (message: unknown) => seen.push(message)
  subscribe(channelNames[type], listener)
  subscribed.push([channelNames[type], listener])
  return seen
}

/** An event that records which of its properties were read. */
function watched(event: BreakwaterEvent): { event: BreakwaterEvent; read: Set<PropertyKey> } {
  const read = new Set<PropertyKey>()
  const proxy = new Proxy(event, {
    get(target, property, receiver) {
      read.add(property)
      return Reflect.get(target, property, receiver)
    },
  })
  return { event: proxy, read }
}

describe('Events', () => {
  it('wants no event of any type when there is no onEvent and no subscriber', () => {
    const events = new Events(undefined)
    for (const type of Object.keys(channelNames) as BreakwaterEventType[]) {
      expect(events.wants(type), type).toBe(false)
    }
  })

  it('reads nothing of an event but its type when nobody listens', () => {
    const { event, read } = watched(hit)
    new Events(undefined).emit(event)
    expect([...read]).toEqual(['type'])
  })

  it('wants every type, and hands each event to onEvent as it was emitted', () => {
    const seen: BreakwaterEvent[] = []
    const events = new Events((event) => seen.push(event))
    expect(events.wants('hit')).toBe(true)
    expect(events.wants('redisDown')).toBe(true)
    const down: BreakwaterEvent = { type: 'redisDown', error: new Error('gone') }
    events.emit(hit)
    events.emit(down)
    expect(seen).toEqual([hit, down])
    expect(seen[0]).toBe(hit)
  })

  it("publishes on the type's diagnostics_channel, and wants only the types subscribed to", () => {
    const hits = listen('hit')
    const misses = listen('miss')
    const events = new Events(undefined)
    expect(events.wants('hit')).toBe(true)
    expect(events.wants('retry')).toBe(false)
    events.emit(hit)
    events.emit({ ...hit, type: 'retry', attempt: 1, delay: 100, reason: 'status 503' })
    expect(hits).toEqual([hit])
    expect(misses).toEqual([])
  })

  it('names every channel after breakwater, one channel per type', () => {
    const names = Object.values(channelNames)
    expect(new Set(names).size).toBe(names.length)
    for (const name of names) expect(name).toMatch(/^breakwater:[a-z]+(:[a-zA-Z]+)*$/)
    expect(channelNames.hit).toBe('breakwater:cache:hit')
    expect(channelNames.retry).toBe('breakwater:retry')
  })

  it('sends an event to both onEvent and the channel when both listen', () => {
    const published = listen('hit')
    const seen: BreakwaterEvent[] = []
    new Events((event) => seen.push(event)).emit(hit)
    expect(published).toEqual([hit])
    expect(seen).toEqual([hit])
  })

  it('keeps a throwing onEvent from failing the call, and warns of it instead', async () => {
    const published = listen('hit')
    const warnings: Error[] = []
    const onWarning = (warning: Error) => warnings.push(warning)
    process.on('warning', onWarning)
    try {
      const events = new Events(() => {
        throw new Error('listener bug')
      })
      expect(() => events.emit(hit)).not.toThrow()
      // The channel heard it before the listener threw.
      expect(published).toEqual([hit])
      // process.emitWarning delivers on the next tick.
      await new Promise((resolve) => setImmediate(resolve))
    } finally {
      process.off('warning', onWarning)
    }
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toMatchObject({
      name: 'BreakwaterWarning',
      message: 'breakwater onEvent listener threw: Error: listener bug',
    })
  })
})
