import { describe, expect, it } from 'vitest'
import { count, formatTable, money, percent, span } from '../../src/cli/table.js'

describe('formatTable', () => {
  it('pads columns to their widest cell, numbers to the right', () => {
    const table = formatTable(
      ['size', 'ttl', 'hits'],
      [
        ['10', '1m', '5.0%'],
        ['1,000', '5m', '45.5%'],
      ],
      new Set([0, 2]),
    )
    expect(table.split('\n')).toEqual([
      ' size  ttl   hits',
      '─────  ───  ─────',
      '   10  1m    5.0%',
      '1,000  5m   45.5%',
    ])
  })
})

describe('number formats', () => {
  it('writes ratios as percent to a tenth, and nothing as a dash', () => {
    expect(percent(0.4567)).toBe('45.7%')
    expect(percent(1)).toBe('100.0%')
    expect(percent(null)).toBe('–')
  })

  it('writes counts with thousands separators', () => {
    expect(count(1_234_567)).toBe('1,234,567')
  })

  it('writes money to the cent, to four places when small, whole when large', () => {
    expect(money(12.345)).toBe('12.35')
    expect(money(0.0123)).toBe('0.0123')
    expect(money(12_345.6)).toBe('12,346')
  })

  it('writes spans of time in the largest readable unit', () => {
    expect(span(45_200)).toBe('45.2s')
    expect(span(200_000)).toBe('3m 20s')
    expect(span(7_500_000)).toBe('2h 05m')
    expect(span(3 * 86_400_000)).toBe('3.0 days')
  })
})
