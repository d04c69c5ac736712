/**
 * Charts as SVG strings, drawn by vega in Node (no browser, no canvas). vega is a devDependency,
 * loaded on first use: an installed package without it still runs every command, and says
 * that its charts were skipped and why.
 */
import type { Spec } from 'vega'

export interface LineSeries {
  readonly name: string
  readonly points: readonly (readonly [x: number, y: number])[]
  /** Series of one group share a color, and the legend names the group. @default the name */
  readonly group?: string
  /** Series of one kind share a dash pattern, with a legend of its own (LRU, optimal…). */
  readonly kind?: string
}

export interface LineChart {
  readonly title: string
  readonly xTitle: string
  readonly yTitle: string
  /** A log scale on x, for sizes that grow tenfold. */
  readonly logX?: boolean
  /** A d3-format for the y axis, like `.0%`. */
  readonly yFormat?: string
  readonly series: readonly LineSeries[]
}

export interface Bar {
  readonly label: string
  readonly value: number
  /** Bars of one label are drawn side by side, one color per group. */
  readonly group?: string
}

export interface BarChart {
  readonly title: string
  readonly xTitle: string
  readonly yTitle: string
  readonly yFormat?: string
  readonly bars: readonly Bar[]
}

/** vega is not installed: charts cannot be drawn, and everything else goes on. */
export class ChartsUnavailableError extends Error {
  override name = 'ChartsUnavailableError'
}

type Vega = typeof import('vega')

let vega: Promise<Vega> | undefined

/** Lines through points: one line per series, colored by group and dashed by kind. */
export async function lineChartSvg(chart: LineChart): Promise<string> {
  const values = chart.series.flatMap((s) =>
    s.points.map(([x, y]) => ({
      series: s.name,
      group: s.group ?? s.name,
      kind: s.kind ?? '',
      x,
      y,
    })),
  )
  const kinds = chart.series.some((s) => s.kind !== undefined)
  const spec: Spec = {
    ...frame(chart.title),
    data: [{ name: 'points', values }],
    scales: [
      {
        name: 'x',
        type: chart.logX ? 'log' : 'linear',
        domain: { data: 'points', field: 'x' },
        range: 'width',
        nice: !chart.logX,
        zero: false,
      },
      {
        name: 'y',
        type: 'linear',
        domain: { data: 'points', field: 'y' },
        range: 'height',
        nice: true,
        zero: true,
      },
      {
        name: 'color',
        type: 'ordinal',
        domain: { data: 'points', field: 'group' },
        range: 'category',
      },
      {
        name: 'dash',
        type: 'ordinal',
        domain: { data: 'points', field: 'kind' },
        range: [
          [1, 0],
          [6, 4],
          [2, 3],
          [8, 3, 2, 3],
        ],
      },
    ],
    axes: [
      { orient: 'bottom', scale: 'x', title: chart.xTitle, grid: true },
      { orient: 'left', scale: 'y', title: chart.yTitle, grid: true, ...format(chart.yFormat) },
    ],
    legends: [
      { stroke: 'color', type: 'symbol', symbolType: 'stroke', labelLimit: 320 },
      ...(kinds
        ? [{ strokeDash: 'dash', type: 'symbol' as const, symbolType: 'stroke', labelLimit: 320 }]
        : []),
    ],
    marks: [
      {
        type: 'group',
        from: { facet: { name: 'line', data: 'points', groupby: 'series' } },
        marks: [
          {
            type: 'line',
            from: { data: 'line' },
            sort: { field: 'datum.x' },
            encode: {
              enter: {
                x: { scale: 'x', field: 'x' },
                y: { scale: 'y', field: 'y' },
                stroke: { scale: 'color', field: 'group' },
                strokeDash: { scale: 'dash', field: 'kind' },
                strokeWidth: { value: 2 },
              },
            },
          },
          {
            type: 'symbol',
            from: { data: 'line' },
            encode: {
              enter: {
                x: { scale: 'x', field: 'x' },
                y: { scale: 'y', field: 'y' },
                fill: { scale: 'color', field: 'group' },
                size: { value: 24 },
              },
            },
          },
        ],
      },
    ],
  }
  return render(spec)
}

/** Bars, side by side by group within each label. */
export async function barChartSvg(chart: BarChart): Promise<string> {
  const values = chart.bars.map((b) => ({ label: b.label, group: b.group ?? '', value: b.value }))
  const groups = chart.bars.some((b) => b.group !== undefined)
  const spec: Spec = {
    ...frame(chart.title),
    data: [{ name: 'bars', values }],
    scales: [
      {
        name: 'x',
        type: 'band',
        domain: { data: 'bars', field: 'label' },
        range: 'width',
        padding: 0.2,
      },
      {
        name: 'y',
        type: 'linear',
        domain: { data: 'bars', field: 'value' },
        range: 'height',
        nice: true,
        zero: true,
      },
      {
        name: 'color',
        type: 'ordinal',
        domain: { data: 'bars', field: 'group' },
        range: 'category',
      },
    ],
    axes: [
      { orient: 'bottom', scale: 'x', title: chart.xTitle },
      { orient: 'left', scale: 'y', title: chart.yTitle, grid: true, ...format(chart.yFormat) },
    ],
    legends: groups ? [{ fill: 'color' }] : [],
    marks: [
      {
        type: 'group',
        from: { facet: { name: 'label', data: 'bars', groupby: 'label' } },
        encode: { enter: { x: { scale: 'x', field: 'label' }, width: { scale: 'x', band: 1 } } },
        signals: [{ name: 'slot', update: 'bandwidth("x")' }],
        scales: [
          {
            name: 'offset',
            type: 'band',
            domain: { data: 'label', field: 'group' },
            range: { signal: '[0, slot]' },
          },
        ],
        marks: [
          {
            type: 'rect',
            from: { data: 'label' },
            encode: {
              enter: {
                x: { scale: 'offset', field: 'group' },
                width: { scale: 'offset', band: 1 },
                y: { scale: 'y', field: 'value' },
                y2: { scale: 'y', value: 0 },
                fill: { scale: 'color', field: 'group' },
              },
            },
          },
        ],
      },
    ],
  }
  return render(spec)
}

/**
 * vega, or a `ChartsUnavailableError` when it is not installed. `load` is there for a test of
 * that case; the commands never pass it.
 */
export async function loadVega(load: () => Promise<Vega> = () => import('vega')): Promise<Vega> {
  try {
    return await load()
  } catch (error) {
    const code = (error as { code?: unknown }).code
    if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') throw error
    throw new ChartsUnavailableError(
      'charts need the vega package, a devDependency of breakwater: run `npm install vega` beside it, or `npm install` in a clone of the repository',
      { cause: error },
    )
  }
}

async function render(spec: Spec): Promise<string> {
  vega ??= loadVega()
  const { View, parse } = await vega
  const view = new View(parse(spec), { renderer: 'none' })
  try {
    return await view.toSVG()
  } finally {
    view.finalize()
  }
}

function frame(
  title: string,
): Pick<Spec, 'width' | 'height' | 'padding' | 'autosize' | 'background' | 'title'> {
  return {
    width: 560,
    height: 320,
    padding: 8,
    autosize: 'pad',
    background: 'white',
    title: { text: title },
  }
}

function format(yFormat: string | undefined): { format?: string } {
  return yFormat === undefined ? {} : { format: yFormat }
}
