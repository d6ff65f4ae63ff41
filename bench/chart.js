'use strict'

// A table's chart as a standalone SVG (bench/harness.js describes the data). Ratios are
// horizontal bars from the 1.0x line on a logarithmic scale, so that 0.5x and 2x are as
// long as each other, with the range of single rounds as a whisker and the target as a
// dashed mark; a bar is green where it meets its target, red where it misses it and blue
// where there is none. Counts are bars side by side per row, from 0.

const { times } = require('./harness')

const WIDTH = 760
const FONT = "system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif"
// About the width of one character at 12 px in that font, to size the label column
// without a renderer; generous, so that labels never run into the bars.
const CHAR_PX = 6.8
// The heading: the title (wrapped to as many lines as it needs, at about TITLE_CHAR_PX
// per character), the caption and the subtitle; the rows start HEAD below its last line.
const TITLE_CHAR_PX = 8.6
const TITLE_LINE = 19
const HEAD = 78
const VALUE_COLUMN = 70
const COLORS = { met: '#2f855a', missed: '#c53030', none: '#3b6aa0' }
const SERIES_COLORS = ['#a0aec0', '#2b6cb0', '#dd6b20', '#805ad5']

const escape = (text) => String(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
const round = (x) => Math.round(x * 10) / 10

function text(x, y, content, { size = 12, anchor = 'start', weight = 'normal', fill = '#1a202c' } = {}) {
  return `<text x="${round(x)}" y="${round(y)}" font-size="${size}" text-anchor="${anchor}" font-weight="${weight}" fill="${fill}">${escape(content)}</text>`
}

function line(x1, y1, x2, y2, stroke, { width = 1, dash } = {}) {
  return `<line x1="${round(x1)}" y1="${round(y1)}" x2="${round(x2)}" y2="${round(y2)}" stroke="${stroke}" stroke-width="${width}"${dash ? ` stroke-dasharray="${dash}"` : ''}/>`
}

function rect(x, y, width, height, fill) {
  return `<rect x="${round(x)}" y="${round(y)}" width="${round(Math.max(width, 1))}" height="${round(height)}" fill="${fill}"/>`
}

/** `words` in lines of at most `width` characters, broken at spaces. */
function wrap(words, width) {
  const lines = []
  for (const word of words.split(' ')) {
    const last = lines.length - 1
    if (last >= 0 && lines[last].length + 1 + word.length <= width) lines[last] += ` ${word}`
    else lines.push(word)
  }
  return lines
}

/** A ratio as a tick label: '0.125x', '1x', '16x', '0.001x'. */
function tickLabel(x) {
  return `${Number(x.toPrecision(3))}x`
}



/**
 * The logarithmic axis of a ratio chart: from a power of 2 (or of 10, for a range over
 * 64x) at or below everything drawn, to one at or above it, and never narrower than
 * 0.5x-2x.
 */
function ratioAxis(bars) {
  const drawn = [1, ...bars.flatMap((b) => [b.value, ...(b.spread ?? []), b.target ?? null])].filter((x) => Number.isFinite(x) && x > 0)
  const low = Math.min(...drawn)
  const high = Math.max(...drawn)
  const base = high / low > 64 ? 10 : 2
  const exponent = (x) => Math.log(x) / Math.log(base)
  const from = Math.min(Math.floor(exponent(low) + 1e-9), -1)
  const to = Math.max(Math.ceil(exponent(high) - 1e-9), 1)
  const ticks = []
  for (let e = from; e <= to; e++) ticks.push(base ** e)
  return { low: base ** from, high: base ** to, ticks, position: (x) => (exponent(x) - from) / (to - from) }
}

/** A linear axis from 0 to `max` rounded up to 1, 2 or 5 times a power of ten, about five ticks. */
function valueAxis(max) {
  const rough = Math.max(max, 1) / 5
  const power = 10 ** Math.floor(Math.log10(rough))
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= rough)
  const high = Math.ceil(Math.max(max, 1) / step) * step
  const ticks = []
  for (let t = 0; t <= high + step / 2; t += step) ticks.push(t)
  return { high, ticks, position: (x) => x / high }
}

/**
 * @param {import('./harness').Table} table
 * @param {string} subtitle the Node and machine the figures come from
 * @returns {string} the table's chart as an SVG document
 */
function chartSvg(table, subtitle) {
  const { chart } = table
  const titleLines = wrap(table.title.replaceAll('`', ''), Math.floor((WIDTH - 16) / TITLE_CHAR_PX))
  const TOP = HEAD + (titleLines.length - 1) * TITLE_LINE
  const labelWidth = Math.min(360, Math.max(...chart.bars.map((b) => b.label.length)) * CHAR_PX + 16)
  const left = labelWidth + 8
  const right = WIDTH - VALUE_COLUMN - 8
  const x = (fraction) => left + fraction * (right - left)
  const rowHeight = chart.kind === 'ratio' ? 26 : chart.series.length * 14 + 12
  const bottom = TOP + chart.bars.length * rowHeight
  const parts = []

  let legend
  if (chart.kind === 'ratio') {
    const axis = ratioAxis(chart.bars)
    for (const tick of axis.ticks) {
      parts.push(line(x(axis.position(tick)), TOP - 4, x(axis.position(tick)), bottom, '#e2e8f0'))
      parts.push(text(x(axis.position(tick)), bottom + 16, tickLabel(tick), { size: 11, anchor: 'middle', fill: '#4a5568' }))
    }
    const one = x(axis.position(1))
    chart.bars.forEach((bar, i) => {
      const top = TOP + i * rowHeight
      const middle = top + rowHeight / 2
      parts.push(text(labelWidth, middle + 4, bar.label, { anchor: 'end' }))
      if (bar.value === null || !Number.isFinite(bar.value) || bar.value <= 0) {
        parts.push(text(WIDTH - 8, middle + 4, 'n/a', { anchor: 'end' }))
        return
      }
      const hasTarget = typeof bar.target === 'number'
      const met = hasTarget && (bar.better === 'higher' ? bar.value >= bar.target : bar.value <= bar.target)
      const end = x(axis.position(bar.value))
      parts.push(rect(Math.min(one, end), middle - 6, Math.abs(end - one), 12, COLORS[hasTarget ? (met ? 'met' : 'missed') : 'none']))
      if (bar.spread) {
        const [a, b] = bar.spread.map((s) => x(axis.position(s)))
        parts.push(line(a, middle, b, middle, '#1a202c'), line(a, middle - 4, a, middle + 4, '#1a202c'), line(b, middle - 4, b, middle + 4, '#1a202c'))
      }
      if (hasTarget) {
        const t = x(axis.position(bar.target))
        parts.push(line(t, top + 2, t, top + rowHeight - 2, '#1a202c', { width: 2, dash: '3,2' }))
      }
      parts.push(text(WIDTH - 8, middle + 4, times(bar.value), { anchor: 'end', weight: 'bold' }))
    })
    parts.push(line(one, TOP - 8, one, bottom, '#1a202c', { width: 1.5 }))
    parts.push(text(one, TOP - 11, '1.0x', { size: 11, anchor: 'middle', weight: 'bold' }))
    legend = [
      ['swatch', COLORS.met, 'meets its target'],
      ['swatch', COLORS.missed, 'misses it'],
      ['swatch', COLORS.none, 'no target'],
      ['whisker', '#1a202c', 'single rounds, lowest-highest'],
      ['dash', '#1a202c', 'target'],
    ]
  } else {
    const axis = valueAxis(chart.max ?? Math.max(...chart.bars.flatMap((b) => b.values)))
    for (const tick of axis.ticks) {
      parts.push(line(x(axis.position(tick)), TOP - 4, x(axis.position(tick)), bottom, '#e2e8f0'))
      parts.push(text(x(axis.position(tick)), bottom + 16, tick.toLocaleString('en-US'), { size: 11, anchor: 'middle', fill: '#4a5568' }))
    }
    chart.bars.forEach((bar, i) => {
      const top = TOP + i * rowHeight + 6
      parts.push(text(labelWidth, TOP + i * rowHeight + rowHeight / 2 + 4, bar.label, { anchor: 'end' }))
      bar.values.forEach((value, s) => {
        const y = top + s * 14
        if (value > 0) parts.push(rect(left, y, x(axis.position(value)) - left, 11, SERIES_COLORS[s]))
        parts.push(text(x(axis.position(Math.max(value, 0))) + 4, y + 9.5, value.toLocaleString('en-US'), { size: 11 }))
      })
    })
    parts.push(line(left, TOP - 4, left, bottom, '#1a202c'))
    legend = chart.series.map((name, s) => ['swatch', SERIES_COLORS[s], name])
  }

  // The legend below the axis, in as many rows as it needs.
  let lx = left
  let ly = bottom + 40
  for (const [kind, color, name] of legend) {
    const width = 17 + name.length * 6.2 + 16
    if (lx > left && lx + width > WIDTH) {
      lx = left
      ly += 18
    }
    if (kind === 'swatch') parts.push(rect(lx, ly - 9, 12, 10, color))
    else if (kind === 'whisker') parts.push(line(lx, ly - 4, lx + 12, ly - 4, color), line(lx, ly - 8, lx, ly, color), line(lx + 12, ly - 8, lx + 12, ly, color))
    else parts.push(line(lx + 6, ly - 11, lx + 6, ly + 2, color, { width: 2, dash: '3,2' }))
    parts.push(text(lx + 17, ly, name, { size: 11, fill: '#4a5568' }))
    lx += width
  }

  const height = ly + 14
  const title = titleLines.join(' ')
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="${escape(FONT)}" role="img" aria-label="${escape(title)}">`,
    `<title>${escape(title)}</title>`,
    `<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    ...titleLines.map((words, i) => text(8, 20 + i * TITLE_LINE, words, { size: 15, weight: 'bold' })),
    text(8, TOP - 40, chart.caption, { size: 12, fill: '#2d3748' }),
    text(8, TOP - 24, subtitle, { size: 11, fill: '#718096' }),
    ...parts,
    '</svg>',
    '',
  ].join('\n')
}

module.exports = { chartSvg, ratioAxis }
