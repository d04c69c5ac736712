import { describe, expect, it } from 'vitest'
import { bandAxis, legendOf } from '../../src/cli/chart-layout.js'
import {
  barChartSvg,
  ChartsUnavailableError,
  lineChartSvg,
  loadVega,
  spansDecades,
} from '../../src/cli/charts.js'

const ticks = (svg: string) =>
  [...svg.matchAll(/<g class="mark-text role-axis-label"[^>]*>(.*?)<\/g><\/g>/g)].flatMap((m) =>
    [...(m[1] ?? '').matchAll(/>([^<]+)<\/text>/g)].map((t) => t[1]),
  )

describe('lineChartSvg', () => {
  it('draws one path per series, with titles and legends, as SVG', async () => {
    const svg = await lineChartSvg({
      title: 'Hit ratio vs cache size',
      xTitle: 'cache size (entries)',
      yTitle: 'hit ratio',
      logX: true,
      yFormat: '.0%',
      series: [
        {
          name: 'LRU, ttl 1m',
          group: 'ttl 1m',
          kind: 'LRU',
          points: [
            [10, 0.2],
            [100, 0.5],
            [1_000, 0.7],
          ],
        },
        {
          name: 'optimal, ttl 1m',
          group: 'ttl 1m',
          kind: 'optimal',
          points: [
            [10, 0.4],
            [100, 0.6],
            [1_000, 0.7],
          ],
        },
      ],
    })
    expect(svg.startsWith('<svg')).toBe(true)
    expect(svg).toContain('Hit ratio vs cache size')
    expect(svg).toContain('cache size (entries)')
    expect(svg).toContain('ttl 1m')
    expect(svg).toContain('optimal')
    expect(svg).toContain('70%')
    expect(svg.match(/class="mark-line/g)).toHaveLength(2)
  })

  it('labels a log axis at the sizes drawn, in SI form, without the crowd between decades', async () => {
    const sizes = [10, 30, 100, 300, 1_000, 3_000, 10_000, 100_000, 1_000_000]
    const svg = await lineChartSvg({
      title: 't',
      xTitle: 'x',
      yTitle: 'y',
      series: [{ name: 'LRU', points: sizes.map((x, i) => [x, i / 10] as const) }],
    })
    expect(ticks(svg)).toEqual(expect.arrayContaining(['10', '300', '1k', '3k', '100k', '1M']))
    expect(ticks(svg)).not.toContain('2,000')
  })
})

describe('spansDecades', () => {
  it('holds when the positive values span the decades asked for', () => {
    expect(spansDecades([100, 1_000, 10_000])).toBe(true)
    expect(spansDecades([100, 200, 900])).toBe(false)
    expect(spansDecades([0, 5, 400], 3)).toBe(false)
    expect(spansDecades([3, 400_000], 3)).toBe(true)
    expect(spansDecades([7])).toBe(false)
  })
})

describe('bandAxis', () => {
  it('turns labels aslant only when side by side they would touch', () => {
    expect(bandAxis('size', ['10', '100', '1,000']).labelAngle).toBeUndefined()
    const many = ['breakwater', 'breakwater (redis)', 'cockatiel + p-retry', 'bottleneck']
    const aslant = bandAxis('subject', [...many, ...many.map((m) => `${m} 2`)])
    expect(aslant.labelAngle).toBe(-40)
    // Aslant labels do not touch, though their upright boxes do: none is dropped.
    expect(aslant.labelOverlap).toBe(false)
  })
})

describe('legendOf', () => {
  it('wraps many entries into as many columns as the width holds', () => {
    expect(legendOf({ fill: 'color' }, ['ttl 1m', 'ttl 5m']).columns).toBe(2)
    const long = Array.from({ length: 9 }, (_, i) => `a subject with a long name ${i}`)
    const columns = legendOf({ fill: 'color' }, long).columns as number
    expect(columns).toBeGreaterThanOrEqual(1)
    expect(columns).toBeLessThan(9)
  })
})

describe('barChartSvg', () => {
  it('draws one bar per value, grouped side by side', async () => {
    const svg = await barChartSvg({
      title: 'Calls saved',
      xTitle: 'size',
      yTitle: 'calls',
      bars: [
        { label: '10', value: 5, group: 'ttl 1m' },
        { label: '10', value: 7, group: 'ttl 5m' },
        { label: '100', value: 9, group: 'ttl 1m' },
      ],
    })
    expect(svg).toContain('Calls saved')
    expect(svg).toContain('ttl 5m')
    const bars = [...svg.matchAll(/<g class="mark-rect role-mark"[^>]*>(.*?)<\/g>/g)].flatMap(
      (match) => match[1]?.match(/<path /g) ?? [],
    )
    expect(bars).toHaveLength(3)
  })

  it('draws values that span decades on a log axis, leaving out bars of nothing', async () => {
    const svg = await barChartSvg({
      title: 'Calls saved',
      xTitle: 'size',
      yTitle: 'calls',
      bars: [
        { label: '10', value: 3 },
        { label: '100', value: 0 },
        { label: '1k', value: 2_500 },
        { label: '10k', value: 400_000 },
      ],
    })
    expect(ticks(svg)).toEqual(expect.arrayContaining(['10', '1k', '100k']))
    const bars = [...svg.matchAll(/<g class="mark-rect role-mark"[^>]*>(.*?)<\/g>/g)].flatMap(
      (match) => match[1]?.match(/<path /g) ?? [],
    )
    expect(bars).toHaveLength(3)
  })
})

describe('loadVega', () => {
  it('says charts need vega when it is not installed', async () => {
    const missing = Object.assign(new Error("Cannot find package 'vega'"), {
      code: 'ERR_MODULE_NOT_FOUND',
    })
    const error = await loadVega(() => Promise.reject(missing)).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ChartsUnavailableError)
    expect((error as Error).message).toMatch(
      /^charts need the vega package, an optional dependency/,
    )
    expect((error as Error).message).toContain('npm install vega')
    expect((error as Error).cause).toBe(missing)
  })

  it('lets any other failure through as it is', async () => {
    const broken = new SyntaxError('bad module')
    await expect(loadVega(() => Promise.reject(broken))).rejects.toBe(broken)
  })
})
