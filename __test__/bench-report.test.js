'use strict'

// The benchmark report's own code (bench/harness.js, bench/chart.js, bench/index.js's
// command line): what it computes and draws from given figures. No benchmark runs here.

const { spawnSync } = require('node:child_process')
const { join } = require('node:path')
const test = require('ava')

const { chartSvg, ratioAxis } = require('../bench/chart')
const h = require('../bench/harness')

const INDEX = join(__dirname, '..', 'bench', 'index.js')

test('median: the middle value, the lower middle one for an even count, non-numbers left out', (t) => {
  t.is(h.median([5, 1, 3]), 3)
  t.is(h.median([4, 1, 3, 2]), 2)
  t.is(h.median([NaN, 7, null, 9, Infinity]), 7)
  t.is(h.median([]), null)
})

test('compare: the ratio of the medians, and the median and range of the ratios within each round', (t) => {
  const r = h.compare([2, 4, 9], [1, 4, 3])
  t.deepEqual(r.perRound, [2, 1, 3])
  t.is(r.ofMedians, 4 / 3)
  t.is(r.paired, 2)
  t.deepEqual(r.spread, [1, 3])
})

test('roundOrder: over 2n rounds every contestant runs first and last equally often', (t) => {
  for (const names of [['a', 'b'], ['a', 'b', 'c'], ['a', 'b', 'c', 'd', 'e', 'f']]) {
    const first = Object.fromEntries(names.map((n) => [n, 0]))
    const last = { ...first }
    for (let round = 0; round < 2 * names.length; round++) {
      const order = h.roundOrder(round, names)
      t.deepEqual([...order].sort(), [...names].sort())
      first[order[0]]++
      last[order.at(-1)]++
    }
    for (const n of names) {
      t.is(first[n], 2, `${n} first in ${names}`)
      t.is(last[n], 2, `${n} last in ${names}`)
    }
  }
})

test('formats: ratios, counts and ranges as the tables print them', (t) => {
  t.is(h.times(0.871), '0.87x')
  t.is(h.times(0.00341), '0.0034x')
  t.is(h.times(null), 'n/a')
  t.is(h.thousands(27_130), '27.1k')
  t.is(h.thousands(9_999), '9999')
  t.is(h.span([0.5, 1.25]), '0.50-1.25')
  t.is(h.span(null), '')
})

test('markdown: heading, chart, notes, then the table with its alignment', (t) => {
  const table = { id: 'x', title: 'T', notes: ['A note.'], columns: ['a', 'b'], align: ['left', 'right'], rows: [['1', '2']] }
  t.is(h.markdown(table, 'bench-x.svg'), '### T\n\n![T](bench-x.svg)\n\nA note.\n\n| a | b |\n| --- | --: |\n| 1 | 2 |')
})

/** The attributes of every element `name` in `svg`, as objects of numbers and strings. */
function elements(svg, name) {
  return [...svg.matchAll(new RegExp(`<${name} ([^>]*?)/?>`, 'g'))].map(([, attrs]) =>
    Object.fromEntries([...attrs.matchAll(/([\w-]+)="([^"]*)"/g)].map(([, k, v]) => [k, Number.isNaN(Number(v)) ? v : Number(v)])),
  )
}

const ratioTable = {
  id: 'r',
  title: '`run()` & <friends>',
  chart: {
    kind: 'ratio',
    caption: 'baton / node',
    bars: [
      { label: 'double', value: 2, spread: [1.5, 2.5], target: 1.5, better: 'lower' },
      { label: 'half', value: 0.5, spread: null, target: 0.6, better: 'lower' },
      { label: 'none', value: null, better: 'lower' },
    ],
  },
}

test('ratio chart: bars from the 1.0x line on a log scale, coloured by their target, with the target marked', (t) => {
  const svg = chartSvg(ratioTable, 'Node vX, 2 × cpu')
  t.true(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"'))
  t.true(svg.trimEnd().endsWith('</svg>'))
  t.true(svg.includes('<title>run() &amp; &lt;friends&gt;</title>'), 'the title is escaped')
  t.true(svg.includes('>1.0x</text>'))
  const lines = elements(svg, 'line')
  // The 1.0x line is the one thicker solid line.
  const one = lines.find((l) => l['stroke-width'] === 1.5)
  const bars = elements(svg, 'rect').filter((r) => r.height === 12)
  t.is(bars.length, 2, 'no bar where there is no value')
  const [double, half] = bars
  t.is(double.x, one.x1, 'a ratio above 1 starts at the 1.0x line')
  t.is(half.x + half.width, one.x1, 'a ratio below 1 ends at it')
  t.true(Math.abs(double.width - half.width) <= 0.2, '2x and 0.5x are as long as each other')
  t.is(double.fill, '#c53030', '2x misses a target of at most 1.5x')
  t.is(half.fill, '#2f855a', '0.5x meets a target of at most 0.6x')
  // Target marks lie among the rows (the 1.0x line spans them); the legend's sample below.
  const targets = lines.filter((l) => l['stroke-dasharray'] !== undefined && l.y2 <= one.y2)
  t.is(targets.length, 2)
  // On a log scale 1.5x sits at log(1.5)/log(2) of the way from 1x to 2x.
  const at = (targets[0].x1 - one.x1) / (double.x + double.width - one.x1)
  t.true(Math.abs(at - Math.log2(1.5)) < 0.01)
  t.true(svg.includes('>2.00x</text>') && svg.includes('>0.50x</text>') && svg.includes('>n/a</text>'))
})

test('ratio axis: powers of 2 around 1x, powers of 10 for a range over 64x', (t) => {
  t.deepEqual(ratioAxis([{ value: 1.2 }]).ticks, [0.5, 1, 2])
  t.deepEqual(ratioAxis([{ value: 6.6, spread: [4, 7] }]).ticks, [0.5, 1, 2, 4, 8])
  t.deepEqual(ratioAxis([{ value: 0.003 }, { value: 1.4 }]).ticks, [0.001, 0.01, 0.1, 1, 10])
})

test('values chart: one bar per series and row, as long as its value', (t) => {
  const svg = chartSvg(
    { id: 'v', title: 'Collected', chart: { kind: 'values', caption: 'of 1,000', series: ['node', 'baton'], max: 1000, bars: [{ label: 'dropped', values: [250, 1000] }] } },
    'Node vX',
  )
  const bars = elements(svg, 'rect').filter((r) => r.height === 11)
  t.is(bars.length, 2)
  t.true(Math.abs(bars[1].width - 4 * bars[0].width) <= 0.2)
  t.true(svg.includes('>1,000</text>') && svg.includes('>node</text>') && svg.includes('>baton</text>'))
})

for (const [args, message] of [
  [['--bogus'], "Unknown option '--bogus'"],
  [['--node', '19'], '--node: expected one of 20, 22, 24, 26, got "19"'],
  [['--node'], "Option '--node <value>' argument missing"],
  [['report'], "Unexpected argument 'report'"],
]) {
  test(`npm run bench -- ${args.join(' ')}: the usage and exit code 2, before any benchmark runs`, (t) => {
    const run = spawnSync(process.execPath, [INDEX, ...args], { encoding: 'utf8' })
    t.is(run.status, 2)
    t.true(run.stderr.startsWith('usage: npm run bench --'))
    t.true(run.stderr.includes(message), run.stderr)
    t.is(run.stdout, '')
  })
}

test('npm run bench -- --help: the usage and exit code 0', (t) => {
  const run = spawnSync(process.execPath, [INDEX, '--help'], { encoding: 'utf8' })
  t.is(run.status, 0)
  t.true(run.stdout.includes('--node <major>') && run.stdout.includes('--out <dir>') && run.stdout.includes('--callgrind'))
})
