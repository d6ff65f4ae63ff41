'use strict'

// What the benchmarks share: the command line, progress on the terminal, the child
// process each measurement runs in, the main thread's CPU time, the order of
// interleaved rounds, medians and ratios, number formats, the versions of the peers,
// the machine they ran on, and the tables they report (Markdown here, SVG charts in
// bench/chart.js).

const { execFileSync } = require('node:child_process')
const { readFileSync } = require('node:fs')
const os = require('node:os')
const { performance } = require('node:perf_hooks')
const { parseArgs } = require('node:util')

// --- The command line ------------------------------------------------------------------

/**
 * The values of `argv` by `options` (util.parseArgs' form: `{ name: { type } }`). `--help`
 * prints `usage` and exits 0; an unknown or malformed argument prints `usage` and exits 2.
 */
function commandLine(usage, options, argv = process.argv.slice(2)) {
  let values
  try {
    ;({ values } = parseArgs({ args: argv, options: { ...options, help: { type: 'boolean' } }, strict: true, allowPositionals: false }))
  } catch (error) {
    console.error(`${usage}\n\n${error.message}`)
    process.exit(2)
  }
  if (values.help) {
    console.log(usage)
    process.exit(0)
  }
  return values
}

/** What every benchmark takes: `--quick` (small counts, for CI) and `--json` (the figures as JSON). */
function benchOptions(usage, extra = {}) {
  const values = commandLine(usage, { quick: { type: 'boolean' }, json: { type: 'boolean' }, ...extra })
  return { ...values, quick: values.quick === true, json: values.json === true }
}

/** A line of progress on the terminal's stderr, overwritten by the next; '' clears it. */
function progress(line) {
  if (process.stderr.isTTY) process.stderr.write(`\r\x1b[K${line}`)
}

// --- Child processes -------------------------------------------------------------------

/**
 * Runs `node [...nodeArgs] file ...args` and returns what it wrote to stdout, parsed as
 * JSON; its stderr goes to ours. `node` is this process's own unless told.
 */
function runChild(file, args, { node = process.execPath, nodeArgs = [], timeout = 600_000 } = {}) {
  const out = execFileSync(node, [...nodeArgs, file, ...args.map(String)], {
    encoding: 'utf8',
    timeout,
    maxBuffer: 256 << 20,
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  return JSON.parse(out)
}

/** In a child: writes what `work()` resolves to as JSON on stdout and exits 0, or reports its error and exits 1. */
function childResult(work) {
  Promise.resolve()
    .then(work)
    .then(
      (value) => process.stdout.write(JSON.stringify(value), () => process.exit(0)),
      (error) => {
        console.error(error)
        process.exit(1)
      },
    )
}

/** `global.gc` without a flag on the command line (`npm run bench` must work as is), or a no-op. */
function collector() {
  try {
    require('node:v8').setFlagsFromString('--expose-gc')
    return require('node:vm').runInNewContext('gc')
  } catch {
    return () => {} // rounds are noisier without it, not wrong
  }
}

// --- The main thread's CPU ----------------------------------------------------------------

/**
 * How the main thread's CPU is measured: `process.threadCpuUsage()` (user + system of
 * the main thread only) where Node has it (22 and later); Node 20 lacks it, and there
 * it is `performance.eventLoopUtilization()` active time, which also counts time the
 * main thread was runnable but preempted.
 */
const CPU_MEASURE = typeof process.threadCpuUsage === 'function' ? 'threadCpuUsage' : 'eventLoopUtilization'

/** The main thread's CPU so far, µs, by CPU_MEASURE. */
function cpuUs() {
  if (CPU_MEASURE === 'threadCpuUsage') {
    const { user, system } = process.threadCpuUsage()
    return user + system
  }
  return performance.eventLoopUtilization().active * 1000
}

const SCHEDSTAT = `/proc/self/task/${process.pid}/schedstat`

/** The main thread's on-CPU time so far from the kernel (Linux), µs, or NaN where there is none. */
function schedUs() {
  try {
    return Number(readFileSync(SCHEDSTAT, 'latin1').split(' ', 1)[0]) / 1000
  } catch {
    return NaN
  }
}

// --- Rounds, medians and ratios -----------------------------------------------------------

/**
 * The order in which `names` run in round `round`: alternately forwards and backwards
 * (A B, B A), the start moving on by one every two rounds, so that none always runs
 * first or right after the same neighbour.
 */
function roundOrder(round, names) {
  const shift = (round >> 1) % names.length
  const order = [...names.slice(shift), ...names.slice(0, shift)]
  return round % 2 === 1 ? order.reverse() : order
}

/**
 * The median of the finite `values` (of an even count, the lower of the middle two, as
 * a perf_hooks histogram's `percentile(50)`), or null when there is none.
 */
function median(values) {
  const sorted = values.filter(Number.isFinite).sort((x, y) => x - y)
  return sorted.length === 0 ? null : sorted[(sorted.length - 1) >> 1]
}

/** The lowest and highest of the finite `values`, or null when there is none. */
function range(values) {
  const finite = values.filter(Number.isFinite)
  return finite.length === 0 ? null : [Math.min(...finite), Math.max(...finite)]
}

/**
 * Two contestants' figures over the same rounds (`top[i]` and `bottom[i]` from round
 * i): the ratio of their medians, and the median and range of the ratios taken within
 * each round.
 * @returns {{ ofMedians: number, paired: number | null, spread: [number, number] | null, perRound: number[] }}
 */
function compare(top, bottom) {
  const perRound = top.map((x, i) => x / bottom[i])
  return { ofMedians: median(top) / median(bottom), paired: median(perRound), spread: range(perRound), perRound }
}

// --- Formats ---------------------------------------------------------------------------

/** `x` with `digits` decimals, or 'n/a' when it is not a number. */
function fixed(x, digits = 2) {
  return x === null || !Number.isFinite(x) ? 'n/a' : x.toFixed(digits)
}

/** A ratio: '0.87x', '6.59x'; below 0.1 with two significant digits ('0.0034x'); 'n/a' when it is not a number. */
function times(x) {
  return x === null || !Number.isFinite(x) ? 'n/a' : `${x < 0.1 ? Number(x.toPrecision(2)) : x.toFixed(2)}x`
}

/** A count or rate: whole below 10,000, in thousands with one decimal from there ('27.1k'). */
function thousands(x) {
  return x === null || !Number.isFinite(x) ? 'n/a' : x >= 10_000 ? `${(x / 1000).toFixed(1)}k` : x.toFixed(0)
}

/** A range `[low, high]` as 'low-high' in `format`, '' when there is none. */
function span(pair, format = fixed) {
  return pair === null ? '' : `${format(pair[0])}-${format(pair[1])}`
}

/** 'yes' or a bold 'no', for a target met or missed. */
function yes(ok) {
  return ok ? 'yes' : '**no**'
}

/** The installed version of package `name` (a peer), or '' when it cannot be read. */
function packageVersion(name) {
  try {
    let dir = require.resolve(name)
    for (;;) {
      const up = require('node:path').dirname(dir)
      if (up === dir) return ''
      dir = up
      try {
        const manifest = JSON.parse(readFileSync(`${dir}/package.json`, 'utf8'))
        if (manifest.name === name) return manifest.version
      } catch {}
    }
  } catch {
    return ''
  }
}

// --- The machine -------------------------------------------------------------------------

/**
 * @typedef {{ node: string, v8: string, platform: string, cpu: string, cores: number,
 *   memoryGiB: number, os: string, date: string }} Machine
 */

/** @returns {Machine} this process's Node and the machine it runs on */
function machine() {
  const cpus = os.cpus()
  return {
    node: process.version,
    v8: process.versions.v8,
    platform: `${process.platform}-${process.arch}`,
    cpu: cpus[0]?.model.trim() ?? 'unknown cpu',
    cores: cpus.length,
    memoryGiB: os.totalmem() / 2 ** 30,
    os: `${os.type()} ${os.release()}`,
    date: new Date().toISOString(),
  }
}

/** @param {Machine} m */
function describeMachine(m) {
  return `Node ${m.node} (V8 ${m.v8}), ${m.platform}, ${m.cores} × ${m.cpu}, ${m.memoryGiB.toFixed(1)} GiB memory, ${m.os}; ${m.date.slice(0, 16).replace('T', ' ')} UTC`
}

// --- Tables ------------------------------------------------------------------------------

/**
 * A bar of a ratio chart: `value` (baton against its peer), drawn from the 1.0x line;
 * `spread` the range of single rounds; `target` the ratio to stay at or below (`better:
 * 'lower'`) or at or above (`'higher'`), where there is one.
 * @typedef {{ label: string, value: number | null, spread?: [number, number] | null,
 *   target?: number | null, better: 'lower' | 'higher' }} RatioBar
 */

/**
 * A bar group of a values chart: one value per series.
 * @typedef {{ label: string, values: number[] }} ValueBar
 */

/**
 * What a table's chart shows: ratios on a logarithmic scale around 1.0x, or plain
 * values (counts) side by side per row, from 0.
 * @typedef {{ kind: 'ratio', caption: string, bars: RatioBar[] }
 *   | { kind: 'values', caption: string, series: string[], max?: number, bars: ValueBar[] }} Chart
 */

/**
 * A table of a report: `id` names its chart's file (docs/bench-<id>.svg).
 * @typedef {{ id: string, title: string, notes: string[], columns: string[], align: string[],
 *   rows: string[][], chart: Chart }} Table
 */

/**
 * @param {Table} table
 * @param {string} [image] the path of its chart, shown under the heading
 * @returns {string} the table in Markdown under a heading, its notes before it
 */
function markdown(table, image) {
  const cells = (list) => `| ${list.join(' | ')} |`
  const rule = table.align.map((a) => (a === 'right' ? '--:' : a === 'center' ? ':-:' : '---'))
  const chart = image === undefined ? [] : [`![${table.title.replaceAll('`', '')}](${image})`, '']
  return [`### ${table.title}`, '', ...chart, ...table.notes.flatMap((note) => [note, '']), cells(table.columns), cells(rule), ...table.rows.map(cells)].join('\n')
}

/**
 * A benchmark's result as it prints it when run alone: JSON with `--json`, else its
 * tables in Markdown under a line naming the Node and machine.
 */
function printResult(result, json) {
  if (json) {
    console.log(JSON.stringify(result, null, 2))
    return
  }
  console.log(`## ${result.title}${result.quick ? ' (quick run)' : ''}\n\n${describeMachine(result.machine)}\n`)
  for (const table of result.tables) console.log(`${markdown(table)}\n`)
  console.log(`(${result.seconds.toFixed(1)} s)`)
}

module.exports = {
  CPU_MEASURE,
  benchOptions,
  childResult,
  collector,
  commandLine,
  compare,
  cpuUs,
  describeMachine,
  fixed,
  machine,
  markdown,
  median,
  packageVersion,
  printResult,
  progress,
  range,
  roundOrder,
  runChild,
  schedUs,
  span,
  thousands,
  times,
  yes,
}
