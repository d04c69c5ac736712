import { describe, expect, it } from 'vitest'
import {
  barChartSvg,
  ChartsUnavailableError,
  lineChartSvg,
  loadVega,
} from '../../src/cli/charts.js'

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
})

describe('loadVega', () => {
  it('says charts need vega when it is not installed', async () => {
    const missing = Object.assign(new Error("Cannot find package 'vega'"), {
      code: 'ERR_MODULE_NOT_FOUND',
    })
    const error = await loadVega(() => Promise.reject(missing)).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ChartsUnavailableError)
    expect((error as Error).message).toMatch(/^charts need the vega package/)
    expect((error as Error).cause).toBe(missing)
  })

  it('lets any other failure through as it is', async () => {
    const broken = new SyntaxError('bad module')
    await expect(loadVega(() => Promise.reject(broken))).rejects.toBe(broken)
  })
})
