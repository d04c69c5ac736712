/**
 * Charts as SVG strings, drawn by vega in Node (no browser, no DOM, no canvas). vega is an
 * optional dependency, loaded on first use: a plain install has it, an install without optional
 * dependencies runs every command but `--out`, which says what is missing.
 */
import type { Mark, Scale, Spec } from 'vega'
import {
  bandAxis,
  height,
  legendOf,
  maxValueTicks,
  spansDecades,
  width,
  yAxis,
  yScale,
} from './chart-layout.js'

export { spansDecades } from './chart-layout.js'

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
  /** A log scale on x. @default when the x values span two decades or more */
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

/** vega is not installed: charts cannot be drawn. */
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
  const xs = [...new Set(values.map((v) => v.x))].sort((a, b) => a - b)
  const logX = chart.logX ?? spansDecades(xs)
  const kinds = chart.series.some((s) => s.kind !== undefined)
  const groups = [...new Set(values.map((v) => v.group))]
  const spec: Spec = {
    ...frame(chart.title),
    data: [{ name: 'points', values }],
    scales: lineScales(logX),
    axes: [
      {
        orient: 'bottom',
        scale: 'x',
        title: chart.xTitle,
        grid: true,
        labelOverlap: 'greedy',
        labelSeparation: 6,
        // A log axis labels 20, 30 … 90 between decades, which crowd: the data's own x values
        // (the sizes replayed) are the ticks worth reading, in SI form (1k, 10k, 1M).
        ...(logX ? { format: '~s', ...(xs.length <= maxValueTicks ? { values: xs } : {}) } : {}),
      },
      yAxis(chart.yTitle, chart.yFormat),
    ],
    legends: [
      legendOf({ stroke: 'color', symbolType: 'stroke', symbolSize: 900 }, groups),
      ...(kinds
        ? [
            legendOf({ strokeDash: 'dash', symbolType: 'stroke', symbolSize: 900 }, [
              ...new Set(values.map((v) => v.kind)),
            ]),
          ]
        : []),
    ],
    marks: [lineMarks()],
  }
  return render(spec)
}

function lineScales(logX: boolean): Scale[] {
  return [
    {
      name: 'x',
      type: logX ? 'log' : 'linear',
      domain: { data: 'points', field: 'x' },
      range: 'width',
      nice: !logX,
      zero: false,
    },
    yScale('points', 'y', false),
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
  ]
}

function lineMarks(): Mark {
  const at = { x: { scale: 'x', field: 'x' }, y: { scale: 'y', field: 'y' } }
  return {
    type: 'group',
    from: { facet: { name: 'line', data: 'points', groupby: 'series' } },
    marks: [
      {
        type: 'line',
        from: { data: 'line' },
        sort: { field: 'datum.x' },
        encode: {
          enter: {
            ...at,
            stroke: { scale: 'color', field: 'group' },
            strokeDash: { scale: 'dash', field: 'kind' },
            strokeWidth: { value: 2 },
          },
        },
      },
      {
        type: 'symbol',
        from: { data: 'line' },
        encode: { enter: { ...at, fill: { scale: 'color', field: 'group' }, size: { value: 24 } } },
      },
    ],
  }
}

/** Bars, side by side by group within each label; a log y axis when the values span decades. */
export async function barChartSvg(chart: BarChart): Promise<string> {
  const values = chart.bars.map((b) => ({ label: b.label, group: b.group ?? '', value: b.value }))
  const groups = chart.bars.some((b) => b.group !== undefined)
  const labels = [...new Set(values.map((v) => v.label))]
  const logY = spansDecades(
    values.map((v) => v.value),
    3,
  )
  const spec: Spec = {
    ...frame(chart.title),
    // A log scale has no 0: a bar of nothing is left out rather than drawn to infinity.
    data: [{ name: 'bars', values: logY ? values.filter((v) => v.value > 0) : values }],
    scales: [
      { name: 'x', type: 'band', domain: labels, range: 'width', padding: 0.2 },
      yScale('bars', 'value', logY),
      {
        name: 'color',
        type: 'ordinal',
        domain: { data: 'bars', field: 'group' },
        range: 'category',
      },
    ],
    axes: [bandAxis(chart.xTitle, labels), yAxis(chart.yTitle, chart.yFormat, logY)],
    legends: groups ? [legendOf({ fill: 'color' }, [...new Set(values.map((v) => v.group))])] : [],
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
                // The foot of the plot: 0 on a linear scale, its least value on a log one.
                y2: { signal: 'height' },
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
      'charts need the vega package, an optional dependency of breakwater that is not installed ' +
        '(npm skips it under --omit=optional): run `npm install vega` where breakwater is installed',
      { cause: error },
    )
  }
}

async function render(spec: Spec): Promise<string> {
  vega ??= loadVega()
  const { View, parse } = await vega.catch((error: unknown) => {
    // Not kept: a later call, after `npm install vega`, tries again.
    vega = undefined
    throw error
  })
  const view = new View(parse(spec), { renderer: 'none' })
  try {
    return await view.toSVG()
  } finally {
    view.finalize()
  }
}

function frame(title: string): Spec {
  return {
    width,
    height,
    padding: 8,
    autosize: 'pad',
    background: 'white',
    title: { text: title },
    // Two legends under the plot go one above the other, each centred, rather than side by side.
    config: {
      legend: { layout: { bottom: { anchor: 'middle', direction: 'vertical', margin: 6 } } },
    },
  }
}
