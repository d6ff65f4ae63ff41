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
// over rounds, with the spread and the median of ratios taken within each round. No
// figure is asserted: a target missed is reported, not fatal.

const { join } = require('node:path')
const { performance } = require('node:perf_hooks')

const h = require('./harness')

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
    label: `piscina ${h.packageVersion('piscina')}`,
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

const { CPU_MEASURE, cpuUs, schedUs } = h

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
  const collect = h.collector()
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
  const median = (key) => h.median(runs.map((run) => run[key]))
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
  h.childResult(() => child(implName, modeName, Number(tasks), Number(warmup), Number(reps)))
  return
}

// --- In the parent: the comparison -----------------------------------------------------

const USAGE = `usage: node bench/pool.js [--quick] [--json]
  --quick  small counts and one round (CI: checks that the benchmark works)
  --json   the figures as JSON instead of Markdown tables
  BATON_CANDIDATE=<another checkout, built> adds that tree's WorkerPool to the run`
const { quick: QUICK, json: JSON_OUT } = h.benchOptions(USAGE)
const CONFIG = QUICK ? { tasks: 2_000, warmup: 500, reps: 1, rounds: 1 } : { tasks: 20_000, warmup: 4_000, reps: 3, rounds: 5 }

function measure(implName, modeName) {
  return h.runChild(__filename, ['--child', implName, modeName, CONFIG.tasks, CONFIG.warmup, CONFIG.reps], { timeout: 300_000 })
}

const METRICS = ['tasksPerSec', 'cpuUsPerTask', 'schedUsPerTask']

/**
 * The ratios reported, each taken within a round and as a ratio of medians:
 * [mode, metric, top, bottom, label, target, better]. Throughput is better higher,
 * CPU lower; `target` null: for information.
 */
const RATIOS = {
  atOnceVsPiscina: ['atOnce', 'tasksPerSec', 'baton', 'piscina', 'throughput, all at once', TARGETS.throughput, 'higher'],
  inFlightVsPiscina: ['inFlight', 'tasksPerSec', 'baton', 'piscina', `throughput, ${IN_FLIGHT} in flight`, TARGETS.throughput, 'higher'],
  cpuVsPiscina: ['inFlight', 'cpuUsPerTask', 'baton', 'piscina', `main-thread CPU per task, ${IN_FLIGHT} in flight`, TARGETS.cpu, 'lower'],
  atOnceVsDocs: ['atOnce', 'tasksPerSec', 'baton', 'docs', "throughput, all at once, against the docs' pool", null, 'higher'],
  inFlightVsDocs: ['inFlight', 'tasksPerSec', 'baton', 'docs', `throughput, ${IN_FLIGHT} in flight, against the docs' pool`, null, 'higher'],
  cpuVsDocs: ['inFlight', 'cpuUsPerTask', 'baton', 'docs', "main-thread CPU per task, against the docs' pool", null, 'lower'],
  // Costs of carrying the store (marked against unmarked): time per task (inverse
  // throughput) and CPU per task.
  storeAtOnce: ['atOnce', 'tasksPerSec', 'batonUnmarked', 'batonStore', 'time per task, all at once', TARGETS.store, 'lower'],
  storeInFlight: ['inFlight', 'tasksPerSec', 'batonUnmarked', 'batonStore', `time per task, ${IN_FLIGHT} in flight`, TARGETS.store, 'lower'],
  storeCpu: ['inFlight', 'cpuUsPerTask', 'batonStore', 'batonUnmarked', 'main-thread CPU per task', TARGETS.store, 'lower'],
  // For information: a marked store against no storage at all.
  storeVsNone: ['inFlight', 'tasksPerSec', 'baton', 'batonStore', `against no storage at all: time per task, ${IN_FLIGHT} in flight`, null, 'lower'],
}

function main() {
  const started = performance.now()
  const names = Object.keys(IMPLS)
  const perRound = {}
  const context = {}
  for (const mode of Object.keys(MODES)) perRound[mode] = Object.fromEntries(names.map((impl) => [impl, []]))
  for (let round = 0; round < CONFIG.rounds; round++) {
    const order = h.roundOrder(round, names)
    for (const mode of Object.keys(MODES)) {
      for (const impl of order) {
        h.progress(`pool: round ${round + 1}/${CONFIG.rounds}, ${MODES[mode].label}, ${impl}`)
        const got = measure(impl, mode)
        perRound[mode][impl].push(got)
        context[impl] = context[impl] === undefined ? got.context : { callbacks: context[impl].callbacks && got.context.callbacks, store: got.context.store === null ? null : context[impl].store && got.context.store }
      }
    }
  }
  h.progress('')

  const figures = {}
  for (const [mode, byImpl] of Object.entries(perRound)) {
    figures[mode] = {}
    for (const [impl, rounds] of Object.entries(byImpl)) {
      const entry = {}
      for (const m of METRICS) {
        const values = rounds.map((r) => r[m])
        entry[m] = h.median(values)
        entry[`${m}Spread`] = h.range(values)
      }
      entry.rounds = rounds
      figures[mode][impl] = entry
    }
  }
  const ratios = {}
  for (const [key, [mode, metric, top, bottom]] of Object.entries(RATIOS)) {
    const of = (impl) => perRound[mode][impl].map((r) => r[metric])
    const ratio = h.compare(of(top), of(bottom))
    ratios[key] = { ofMedians: ratio.ofMedians, pairedMedian: ratio.paired, pairedSpread: ratio.spread, perRound: ratio.perRound }
  }
  const meets = {}
  for (const [key, [, , , , , target, better]] of Object.entries(RATIOS)) {
    const x = ratios[key].pairedMedian
    if (target !== null) meets[key] = better === 'higher' ? x >= target : x <= target
  }
  const result = {
    benchmark: 'pool',
    title: 'Worker pools: baton against piscina and the pool of the Node docs',
    machine: h.machine(),
    quick: QUICK,
    config: { ...CONFIG, threads: THREADS, inFlight: IN_FLIGHT, store: STORE },
    cpuMeasure: CPU_MEASURE,
    labels: Object.fromEntries(names.map((n) => [n, IMPLS[n].label])),
    context,
    figures,
    ratios,
    targets: TARGETS,
    meets,
  }
  result.tables = tables(result)
  result.seconds = (performance.now() - started) / 1000
  h.printResult(result, JSON_OUT)
}

const { fixed: f, thousands: k, span } = h

function tables(result) {
  const { figures, ratios, config } = result
  const cpuName =
    result.cpuMeasure === 'threadCpuUsage'
      ? '`process.threadCpuUsage()` (user + system, main thread)'
      : '`performance.eventLoopUtilization()` active time (Node 20 has no `process.threadCpuUsage()`; it also counts time the main thread was preempted)'
  const method =
    `${THREADS} threads, ${config.tasks.toLocaleString('en-US')} tasks returning a+b per run; each figure is the median of ${config.rounds} ` +
    `round${config.rounds === 1 ? '' : 's'} (a fresh process per pool, mode and round; each the median of ${config.reps} timed ` +
    `run${config.reps === 1 ? '' : 's'} after ${config.warmup.toLocaleString('en-US')} warm-up tasks). Main-thread CPU: ${cpuName}.`
  const ratioNote = 'Ratios: the median of the ratios taken within each round (their range under "single rounds"); the ratio of the medians after it.'

  const ratioTable = (id, title, notes, keys) => {
    const columns = ['', 'ratio', 'single rounds', 'target', 'met']
    return {
      id,
      title,
      notes,
      columns,
      align: ['left', 'right', 'right', 'right', 'center'],
      rows: keys.map((key) => {
        const [, , , , label, target, better] = RATIOS[key]
        const r = ratios[key]
        const bound = target === null ? '(information)' : `${better === 'higher' ? '≥' : '≤'} ${target}x`
        return [label, `**${h.times(r.pairedMedian)}** (${h.times(r.ofMedians)})`, span(r.pairedSpread, h.times), bound, target === null ? '' : h.yes(result.meets[key])]
      }),
      chart: {
        kind: 'ratio',
        caption: 'throughput: higher is better; time and CPU per task: lower is better',
        bars: keys.map((key) => {
          const [, , , , label, target, better] = RATIOS[key]
          return { label, value: ratios[key].pairedMedian, spread: ratios[key].pairedSpread, target, better }
        }),
      },
    }
  }

  const perPool = {
    id: 'pool-figures',
    title: 'Worker pools: the figures of each pool',
    notes: [
      `${method} Min-max over rounds in brackets; "sched" is the kernel's on-CPU time of the main thread (/proc schedstat), the same measure on every line.`,
      ...(result.context.docs?.callbacks === false
        ? [
            "The docs' pool makes a task's AsyncResource only when a worker takes the task: one that waited in its queue calls back " +
              "in the context of the worker's 'message' event, not in its submitter's.",
          ]
        : []),
    ],
    columns: ['pool', 'at once, tasks/s', `${IN_FLIGHT} in flight, tasks/s`, `main-thread µs/task (${IN_FLIGHT} in flight)`, 'sched µs/task', "callbacks in caller's context"],
    align: ['left', 'right', 'right', 'right', 'right', 'center'],
    rows: Object.entries(result.labels).map(([impl, label]) => {
      const a = figures.atOnce[impl]
      const b = figures.inFlight[impl]
      const store = result.context[impl].store
      return [
        label,
        `${k(a.tasksPerSec)} (${span(a.tasksPerSecSpread, k)})`,
        `${k(b.tasksPerSec)} (${span(b.tasksPerSecSpread, k)})`,
        `${f(b.cpuUsPerTask, 1)} (${span(b.cpuUsPerTaskSpread, (x) => f(x, 1))})`,
        f(b.schedUsPerTask, 1),
        `${result.context[impl].callbacks ? 'yes' : 'NO'}${store === null ? '' : `, worker sees the store only if marked: ${store ? 'yes' : 'NO'}`}`,
      ]
    }),
    chart: {
      kind: 'values',
      caption: 'tasks per second (higher is better)',
      series: ['all at once', `${IN_FLIGHT} in flight`],
      bars: Object.entries(result.labels).map(([impl, label]) => ({ label, values: [Math.round(figures.atOnce[impl].tasksPerSec), Math.round(figures.inFlight[impl].tasksPerSec)] })),
    },
  }

  return [
    ratioTable('pool', `Worker pools: baton's run() against ${IMPLS.piscina.label} and the docs' pool`, [method, ratioNote], [
      'atOnceVsPiscina',
      'inFlightVsPiscina',
      'cpuVsPiscina',
      'atOnceVsDocs',
      'inFlightVsDocs',
      'cpuVsDocs',
    ]),
    ratioTable(
      'pool-store',
      'Worker pools: carrying one marked store into the workers',
      [
        `A store \`${JSON.stringify(STORE)}\` in a storage marked \`cloneIntoWorkers\`, against the same run with the storage unmarked, ` +
          'so that only the carrying differs (on Node 20/22, having a store active at all turns on async_hooks for every promise). ' +
          ratioNote,
      ],
      ['storeAtOnce', 'storeInFlight', 'storeCpu', 'storeVsNone'],
    ),
    perPool,
  ]
}

main()
