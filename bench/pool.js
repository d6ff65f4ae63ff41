'use strict'

// Worker pools side by side in one run, 2 threads, tasks returning a+b
// (bench/fixtures/add.js): baton's WorkerPool, piscina, and the pool of Node's
// async_hooks docs (bench/fixtures/docs-pool.js). `npm run bench`, or
// `node bench/pool.js [--quick] [--json]`.
//
// Modes: 20,000 tasks submitted at once, and 64 kept in flight until 20,000 are done.
// For each: throughput (tasks/s, first submission to last settlement) and the main
// thread's CPU per task. CPU is `process.threadCpuUsage()` (user + system of the main
// thread only) where Node has it (22 and later); Node 20 lacks it, and there the
// figure is `performance.eventLoopUtilization()` active time, which also counts time
// the main thread was runnable but preempted. On Linux the main thread's on-CPU time
// from /proc/self/task/<pid>/schedstat is recorded too, on every line, as a measure
// that is the same everywhere.
//
// baton runs in four forms: `run()` (Promise, as piscina), `runTask()` (callback, as
// the docs' pool), and `run()` inside a storage's `run()` holding a small store, once
// with the storage marked `cloneIntoWorkers` (the store travels with every task and the
// worker enters it around the handler) and once unmarked. The cost of carrying the
// store is the marked run against the unmarked one: everything else (a store being
// active at all, which on Node 20/22 turns async_hooks on) is the same in both.
//
// Each measurement is a fresh child process (pools do not disturb each other), which
// warms its pool up, forces a GC, then times a few runs and reports their median; the
// parent alternates the order of the pools from round to round and reports medians
// over rounds (perf_hooks histograms), with the spread and the median of ratios taken
// within each round. No figure is asserted: a target missed is reported, not fatal.

const { execFileSync } = require('node:child_process')
const { readFileSync } = require('node:fs')
const os = require('node:os')
const { join } = require('node:path')
const { createHistogram, performance } = require('node:perf_hooks')

const FIXTURES = join(__dirname, 'fixtures')
const STORE = { requestId: 'abc-123', tenant: 7 }
const IN_FLIGHT = 64
const THREADS = 2

const TARGETS = { throughput: 1.5, cpu: 0.5, store: 1.2 }

/** Each pool: how to open it with 2 threads, as `{ submit(task, done), close() }`. */
const IMPLS = {
  docs: {
    label: "Node docs' pool (WorkerPoolTaskInfo)",
    open() {
      const { WorkerPool } = require('./fixtures/docs-pool')
      const pool = new WorkerPool(THREADS)
      return { submit: (task, done) => pool.runTask(task, done), close: () => pool.close() }
    },
  },
  piscina: {
    label: `piscina ${piscinaVersion()}`,
    open() {
      const { Piscina } = require('piscina')
      const pool = new Piscina({ filename: join(FIXTURES, 'add.js'), minThreads: THREADS, maxThreads: THREADS })
      return { submit: (task, done) => pool.run(task).then((value) => done(null, value), done), close: () => pool.destroy() }
    },
  },
  baton: {
    label: 'baton WorkerPool, run()',
    open: () => openBaton('promise'),
  },
  batonCallback: {
    label: 'baton WorkerPool, runTask()',
    open: () => openBaton('callback'),
  },
  batonUnmarked: {
    label: 'baton WorkerPool, run(), one unmarked store',
    open: () => openBaton('promise', 'unmarked'),
  },
  batonStore: {
    label: 'baton WorkerPool, run(), one marked store',
    open: () => openBaton('promise', 'marked'),
  },
}

// For work on the pool: BATON_CANDIDATE=<another checkout, built> adds that tree's
// WorkerPool, plain and with the store, to the same run.
const CANDIDATE = process.env.BATON_CANDIDATE
if (CANDIDATE) {
  IMPLS.candidate = { label: `candidate run() (${CANDIDATE})`, open: () => openBaton('promise', false, CANDIDATE) }
  IMPLS.candidateStore = { label: 'candidate run(), one marked store', open: () => openBaton('promise', 'marked', CANDIDATE) }
}

function piscinaVersion() {
  try {
    return JSON.parse(readFileSync(join(require.resolve('piscina'), '../../package.json'), 'utf8')).version
  } catch {
    return ''
  }
}

/** baton's pool; every baton form uses the same worker module (fixtures/add-marked.js). */
/** `store`: undefined (no storage), 'unmarked' or 'marked' (cloneIntoWorkers). */
function openBaton(form, store = undefined, root = join(__dirname, '..')) {
  const baton = require(root)
  const storage = store === undefined ? undefined : new baton.AsyncLocalStorage({ name: 'bench.request', cloneIntoWorkers: store === 'marked' })
  const filename = join(root, 'bench', 'fixtures', 'add-marked.js')
  const pool = new baton.WorkerPool({ filename, name: 'add', minThreads: THREADS, maxThreads: THREADS })
  const submit =
    form === 'callback'
      ? (task, done) => pool.runTask(task, done)
      : (task, done) => pool.run(task).then((value) => done(null, value), done)
  return {
    submit,
    close: () => pool.close(),
    around: storage === undefined ? (fn) => fn() : (fn) => storage.run(STORE, fn),
    // Outside the timed runs: the worker sees the store.
    check: async () => {
      if (storage === undefined) return true
      const seen = await storage.run(STORE, () => pool.run({}, { name: 'store' }))
      return JSON.stringify(seen) === JSON.stringify(store === 'marked' ? STORE : undefined)
    },
  }
}

const MODES = {
  atOnce: {
    label: 'all submitted at once',
    /** Submits `n` tasks in one synchronous loop; resolves to the sum of the results. */
    run: (pool, n) =>
      new Promise((resolve, reject) => {
        let left = n
        let sum = 0
        const done = (err, value) => {
          if (err) return reject(err)
          sum += value
          if (--left === 0) resolve(sum)
        }
        for (let i = 0; i < n; i++) pool.submit({ a: i, b: 1 }, done)
      }),
  },
  inFlight: {
    label: `${IN_FLIGHT} in flight`,
    /** Keeps `IN_FLIGHT` tasks outstanding (each settlement submits the next) until `n` are done. */
    run: (pool, n) =>
      new Promise((resolve, reject) => {
        let submitted = 0
        let left = n
        let sum = 0
        const next = () => {
          const i = submitted++
          pool.submit({ a: i, b: 1 }, done)
        }
        const done = (err, value) => {
          if (err) return reject(err)
          sum += value
          if (--left === 0) return resolve(sum)
          if (submitted < n) next()
        }
        for (let k = 0; k < Math.min(IN_FLIGHT, n); k++) next()
      }),
  },
}

// --- In a child: one pool, one mode -----------------------------------------------------

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

/** The main thread's on-CPU time so far from the kernel, µs, or NaN where there is none. */
function schedUs() {
  try {
    return Number(readFileSync(SCHEDSTAT, 'latin1').split(' ', 1)[0]) / 1000
  } catch {
    return NaN
  }
}

function collector() {
  try {
    require('node:v8').setFlagsFromString('--expose-gc')
    return require('node:vm').runInNewContext('gc')
  } catch {
    return () => {} // rounds are noisier without it, not wrong
  }
}

/** Whether callbacks run in the submitter's context (Node's own AsyncLocalStorage). */
async function keepsContext(pool) {
  const { AsyncLocalStorage } = require('node:async_hooks')
  const als = new AsyncLocalStorage()
  const results = await Promise.all(
    Array.from({ length: 8 }, (_, i) =>
      als.run(i, () => new Promise((resolve, reject) => pool.submit({ a: i, b: 1 }, (err) => (err ? reject(err) : resolve(als.getStore() === i))))),
    ),
  )
  return results.every(Boolean)
}

async function child(implName, modeName, tasks, warmup, reps) {
  const collect = collector()
  const pool = IMPLS[implName].open()
  const mode = MODES[modeName]
  const around = pool.around ?? ((fn) => fn())
  const context = { callbacks: await keepsContext(pool), store: pool.check === undefined ? null : await pool.check() }
  await around(() => mode.run(pool, warmup))
  const expected = (tasks * (tasks + 1)) / 2 // Σ (i + 1)
  const runs = []
  for (let r = 0; r < reps; r++) {
    collect()
    const cpu = cpuUs()
    const sched = schedUs()
    const start = performance.now()
    const sum = await around(() => mode.run(pool, tasks))
    const ms = performance.now() - start
    const cpuPerTask = (cpuUs() - cpu) / tasks
    const schedPerTask = (schedUs() - sched) / tasks
    if (sum !== expected) throw new Error(`${implName}: wrong results (sum ${sum}, expected ${expected})`)
    runs.push({ ms, tasksPerSec: (tasks * 1000) / ms, cpuUsPerTask: cpuPerTask, schedUsPerTask: schedPerTask })
  }
  await pool.close()
  const median = (key) => {
    const sorted = runs.map((run) => run[key]).sort((x, y) => x - y)
    return sorted[(sorted.length - 1) >> 1]
  }
  return {
    tasksPerSec: median('tasksPerSec'),
    cpuUsPerTask: median('cpuUsPerTask'),
    schedUsPerTask: median('schedUsPerTask'),
    context,
    runs,
  }
}

if (process.argv[2] === '--child') {
  const [, , , implName, modeName, tasks, warmup, reps] = process.argv
  child(implName, modeName, Number(tasks), Number(warmup), Number(reps)).then(
    (result) => process.stdout.write(JSON.stringify(result), () => process.exit(0)),
    (error) => {
      console.error(error)
      process.exit(1)
    },
  )
  return
}

// --- In the parent: the comparison -----------------------------------------------------

const { quick: QUICK, json: JSON_OUT } = require('./options').benchOptions(__filename)
const CONFIG = QUICK ? { tasks: 2_000, warmup: 500, reps: 1, rounds: 1 } : { tasks: 20_000, warmup: 4_000, reps: 3, rounds: 5 }

function measure(implName, modeName) {
  const args = [__filename, '--child', implName, modeName, CONFIG.tasks, CONFIG.warmup, CONFIG.reps].map(String)
  return JSON.parse(execFileSync(process.execPath, args, { encoding: 'utf8', timeout: 300_000, stdio: ['ignore', 'pipe', 'inherit'] }))
}

// Histograms hold integers: tasks/s as they are, µs in thousandths, ratios in thousandths.
const SCALE = { tasksPerSec: 1, cpuUsPerTask: 1000, schedUsPerTask: 1000 }
const RATIO = 1000
const METRICS = Object.keys(SCALE)

function progress(line) {
  if (process.stderr.isTTY) process.stderr.write(`\r\x1b[K${line}`)
}

/** The ratios reported, each taken within a round and as a ratio of medians. */
const RATIOS = {
  atOnceVsPiscina: ['atOnce', 'tasksPerSec', 'baton', 'piscina'],
  inFlightVsPiscina: ['inFlight', 'tasksPerSec', 'baton', 'piscina'],
  cpuVsPiscina: ['inFlight', 'cpuUsPerTask', 'baton', 'piscina'],
  // Costs of carrying the store (marked against unmarked): time per task (inverse
  // throughput) and CPU per task.
  storeAtOnce: ['atOnce', 'tasksPerSec', 'batonUnmarked', 'batonStore'],
  storeInFlight: ['inFlight', 'tasksPerSec', 'batonUnmarked', 'batonStore'],
  storeCpu: ['inFlight', 'cpuUsPerTask', 'batonStore', 'batonUnmarked'],
  // For information: a marked store against no storage at all.
  storeVsNone: ['inFlight', 'tasksPerSec', 'baton', 'batonStore'],
}

function main() {
  const started = performance.now()
  const names = Object.keys(IMPLS)
  const hist = {}
  const perRound = {}
  const context = {}
  for (const mode of Object.keys(MODES)) {
    hist[mode] = {}
    perRound[mode] = {}
    for (const impl of names) {
      hist[mode][impl] = Object.fromEntries(METRICS.map((m) => [m, createHistogram()]))
      perRound[mode][impl] = []
    }
  }
  for (let round = 0; round < CONFIG.rounds; round++) {
    // Rotate the starting pool and alternate the direction, so that no pool always runs
    // first or right after the same neighbour.
    const shift = round % names.length
    let order = [...names.slice(shift), ...names.slice(0, shift)]
    if (round % 2 === 1) order = order.reverse()
    for (const mode of Object.keys(MODES)) {
      for (const impl of order) {
        progress(`pool: round ${round + 1}/${CONFIG.rounds}, ${MODES[mode].label}, ${impl}`)
        const got = measure(impl, mode)
        perRound[mode][impl].push(got)
        for (const m of METRICS) if (Number.isFinite(got[m])) hist[mode][impl][m].record(Math.max(1, Math.round(got[m] * SCALE[m])))
        context[impl] = context[impl] === undefined ? got.context : { callbacks: context[impl].callbacks && got.context.callbacks, store: got.context.store === null ? null : context[impl].store && got.context.store }
      }
    }
  }
  progress('')

  const figures = {}
  for (const [mode, byImpl] of Object.entries(hist)) {
    figures[mode] = {}
    for (const [impl, h] of Object.entries(byImpl)) {
      const entry = {}
      for (const m of METRICS) {
        entry[m] = h[m].count === 0 ? null : h[m].percentile(50) / SCALE[m]
        entry[`${m}Spread`] = h[m].count === 0 ? null : [h[m].min / SCALE[m], h[m].max / SCALE[m]]
      }
      entry.rounds = perRound[mode][impl]
      figures[mode][impl] = entry
    }
  }
  const ratios = {}
  for (const [key, [mode, metric, top, bottom]] of Object.entries(RATIOS)) {
    const paired = createHistogram()
    const each = []
    for (let r = 0; r < CONFIG.rounds; r++) {
      const x = perRound[mode][top][r][metric] / perRound[mode][bottom][r][metric]
      each.push(x)
      if (Number.isFinite(x)) paired.record(Math.max(1, Math.round(x * RATIO)))
    }
    ratios[key] = {
      ofMedians: figures[mode][top][metric] / figures[mode][bottom][metric],
      pairedMedian: paired.count === 0 ? null : paired.percentile(50) / RATIO,
      pairedSpread: paired.count === 0 ? null : [paired.min / RATIO, paired.max / RATIO],
      perRound: each,
    }
  }
  const vsDocs = {
    atOnce: figures.atOnce.baton.tasksPerSec / figures.atOnce.docs.tasksPerSec,
    inFlight: figures.inFlight.baton.tasksPerSec / figures.inFlight.docs.tasksPerSec,
    cpu: figures.inFlight.baton.cpuUsPerTask / figures.inFlight.docs.cpuUsPerTask,
  }
  const p = (key) => ratios[key].pairedMedian
  const meets = {
    atOnce: p('atOnceVsPiscina') >= TARGETS.throughput,
    inFlight: p('inFlightVsPiscina') >= TARGETS.throughput,
    cpu: p('cpuVsPiscina') <= TARGETS.cpu,
    store: p('storeAtOnce') <= TARGETS.store && p('storeInFlight') <= TARGETS.store && p('storeCpu') <= TARGETS.store,
  }
  const result = {
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    cpus: os.cpus().length,
    quick: QUICK,
    config: { ...CONFIG, threads: THREADS, inFlight: IN_FLIGHT, store: STORE },
    cpuMeasure: CPU_MEASURE,
    labels: Object.fromEntries(names.map((n) => [n, IMPLS[n].label])),
    context,
    figures,
    ratios,
    vsDocs,
    targets: TARGETS,
    meets,
    seconds: (performance.now() - started) / 1000,
  }
  if (JSON_OUT) console.log(JSON.stringify(result, null, 2))
  else console.log(`${table(result)}\n\n(${result.seconds.toFixed(1)} s)`)
}

const k = (x) => (x >= 10_000 ? `${(x / 1000).toFixed(1)}k` : x.toFixed(0))
const f = (x, digits = 2) => (x === null || !Number.isFinite(x) ? 'n/a' : x.toFixed(digits))
const spread = (s, fmt) => (s === null ? '' : `${fmt(s[0])}-${fmt(s[1])}`)
const yes = (ok) => (ok ? 'yes' : '**no**')

function table(result) {
  const { figures, ratios, config } = result
  const cpuName =
    result.cpuMeasure === 'threadCpuUsage'
      ? '`process.threadCpuUsage()` (user + system, main thread)'
      : '`performance.eventLoopUtilization()` active time (Node 20 has no `process.threadCpuUsage()`; it also counts time the main thread was preempted)'
  const lines = []
  const cpus = os.cpus()
  lines.push(
    `## Worker pools: Node ${process.version}, ${process.platform}-${process.arch}, ${cpus.length} × ${cpus[0]?.model.trim() ?? 'cpu'}` +
      `${QUICK ? ' (quick run)' : ''}`,
  )
  lines.push('')
  lines.push(
    `${THREADS} threads, ${config.tasks.toLocaleString('en-US')} tasks returning a+b per run; each figure is the median of ${config.rounds} ` +
      `round${config.rounds === 1 ? '' : 's'} (a fresh process per pool, mode and round; each the median of ${config.reps} timed ` +
      `run${config.reps === 1 ? '' : 's'} after ${config.warmup.toLocaleString('en-US')} warm-up tasks), min-max in brackets. ` +
      `Main-thread CPU: ${cpuName}; "sched" is the kernel's on-CPU time of the main thread (/proc schedstat), the same measure on every line.`,
  )
  lines.push('')
  lines.push(`| pool | at once, tasks/s | ${IN_FLIGHT} in flight, tasks/s | main-thread µs/task (${IN_FLIGHT} in flight) | sched µs/task | callbacks in caller's context |`)
  lines.push('|---|--:|--:|--:|--:|:-:|')
  for (const [impl, label] of Object.entries(result.labels)) {
    const a = figures.atOnce[impl]
    const b = figures.inFlight[impl]
    lines.push(
      `| ${label} | ${k(a.tasksPerSec)} (${spread(a.tasksPerSecSpread, k)}) | ${k(b.tasksPerSec)} (${spread(b.tasksPerSecSpread, k)}) | ` +
        `${f(b.cpuUsPerTask, 1)} (${spread(b.cpuUsPerTaskSpread, (x) => f(x, 1))}) | ${f(b.schedUsPerTask, 1)} | ` +
        `${result.context[impl].callbacks ? 'yes' : 'NO'}${result.context[impl].store === null ? '' : `, worker sees the store only if marked: ${result.context[impl].store ? 'yes' : 'NO'}`} |`,
    )
  }
  if (result.context.docs?.callbacks === false) {
    lines.push('')
    lines.push(
      "The docs' pool makes a task's AsyncResource only when a worker takes the task: one that waited in its queue calls back " +
        "in the context of the worker's 'message' event, not in its submitter's.",
    )
  }
  lines.push('')
  lines.push('Ratios: median of the ratios taken within each round (min-max over rounds); the ratio of the medians after it.')
  lines.push('')
  lines.push('| | ratio | target | met |')
  lines.push('|---|--:|--:|:-:|')
  const row = (label, key, target, ok) => {
    const r = ratios[key]
    lines.push(`| ${label} | ${f(r.pairedMedian)}x (${spread(r.pairedSpread, f)}; ${f(r.ofMedians)}x) | ${target} | ${ok === undefined ? '' : yes(ok)} |`)
  }
  row('baton / piscina throughput, at once', 'atOnceVsPiscina', `≥ ${TARGETS.throughput}x`, result.meets.atOnce)
  row(`baton / piscina throughput, ${IN_FLIGHT} in flight`, 'inFlightVsPiscina', `≥ ${TARGETS.throughput}x`, result.meets.inFlight)
  row('baton / piscina main-thread CPU per task', 'cpuVsPiscina', `≤ ${TARGETS.cpu}x`, result.meets.cpu)
  row('marked store: time per task, at once (marked / unmarked)', 'storeAtOnce', `≤ ${TARGETS.store}x`, ratios.storeAtOnce.pairedMedian <= TARGETS.store)
  row(`marked store: time per task, ${IN_FLIGHT} in flight`, 'storeInFlight', `≤ ${TARGETS.store}x`, ratios.storeInFlight.pairedMedian <= TARGETS.store)
  row('marked store: main-thread CPU per task', 'storeCpu', `≤ ${TARGETS.store}x`, ratios.storeCpu.pairedMedian <= TARGETS.store)
  row(`marked store against no storage at all: time per task, ${IN_FLIGHT} in flight`, 'storeVsNone', '(information)', undefined)
  lines.push('')
  lines.push(
    `baton run() against the docs' pool (ratio of medians): throughput ${f(result.vsDocs.atOnce)}x at once, ` +
      `${f(result.vsDocs.inFlight)}x ${IN_FLIGHT} in flight; main-thread CPU ${f(result.vsDocs.cpu)}x.`,
  )
  return lines.join('\n')
}

main()
