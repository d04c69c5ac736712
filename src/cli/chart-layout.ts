/**
 * The parts of a chart that have to fit: axes whose labels never overprint (thinned, turned
 * aslant, in SI form on a log axis) and legends that wrap. Pure: specs in, no vega loaded.
 */
import type { Axis, Legend, Scale } from 'vega'

export const width = 560
export const height = 320
/** About what a character of a 10 px label takes: enough to tell whether labels would touch. */
const charWidth = 6.5
/** Most ticks drawn at the data's own x values on a log axis, beyond which vega picks them. */
export const maxValueTicks = 12

/** Whether positive `values` span at least `decades` powers of ten: then a log axis reads. */
export function spansDecades(values: readonly number[], decades = 2): boolean {
  const positive = values.filter((v) => v > 0)
  if (positive.length < 2) return false
  return Math.max(...positive) / Math.min(...positive) >= 10 ** decades
}

/** Category labels across the bottom, turned aslant when side by side they would touch. */
export function bandAxis(title: string, labels: readonly string[]): Axis {
  const slot = width / Math.max(1, labels.length)
  const aslant = Math.max(0, ...labels.map((l) => l.length)) * charWidth + 12 > slot
  return {
    orient: 'bottom',
    scale: 'x',
    title,
    // vega tests overlap on the upright boxes around turned labels, which touch long before
    // the labels do: aslant, they are thinned only when their slots are under two lines high.
    labelOverlap: !aslant || slot < 24 ? 'greedy' : false,
    labelSeparation: 4,
    ...(aslant
      ? { labelAngle: -40, labelAlign: 'right', labelBaseline: 'middle', labelLimit: 220 }
      : {}),
  }
}

export function yScale(data: string, field: string, log: boolean): Scale {
  return log
    ? { name: 'y', type: 'log', domain: { data, field }, range: 'height', nice: true }
    : {
        name: 'y',
        type: 'linear',
        domain: { data, field },
        range: 'height',
        nice: true,
        zero: true,
      }
}

export function yAxis(title: string, yFormat: string | undefined, log = false): Axis {
  return {
    orient: 'left',
    scale: 'y',
    title,
    grid: true,
    labelOverlap: 'greedy',
    ...(yFormat === undefined ? (log ? { format: '~s' } : {}) : { format: yFormat }),
  }
}

/** A legend under the plot whose entries wrap into as many columns as its width holds. */
export function legendOf(encoding: Partial<Legend>, labels: readonly string[]): Legend {
  const widest = Math.min(320, Math.max(1, ...labels.map((l) => l.length)) * charWidth) + 28
  const columns = Math.max(1, Math.min(labels.length, Math.floor(width / widest)))
  return {
    type: 'symbol',
    orient: 'bottom',
    direction: 'horizontal',
    columns,
    columnPadding: 16,
    labelLimit: 320,
    ...encoding,
  }
}
