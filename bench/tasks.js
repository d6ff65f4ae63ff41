'use strict'

// Benchmarks for baton's background tasks: `npm run bench` (with the other benchmarks),
// or `node bench/tasks.js [--quick] [--json]` (about 1-2 minutes; --quick: a short run
// that checks that the benchmark still works).
//
// 1. Round trip of a trivial task, baton (`performAsyncTask`, context-preserving)
//    against the plain napi-rs AsyncTask path (`plainAsyncTask`, same addon), in four
//    modes: Promise / callback form, one at a time or 10,000 submitted at once. Every
//    round runs inside `AsyncLocalStorage.run()`. Rounds alternate baton and plain
//    (ABBA order) so that drift and noise hit both; figures are medians over rounds,
//    after warm-up rounds that are discarded (their figures are kept in the JSON).
// 2. `fibonacci(1_000_000)` on the libuv pool (until the Promise resolves, BigInt
//    conversion included) against the same fast doubling in JS BigInt on the main
//    thread, interleaved, with the event loop delay measured during each.
//
// The machine this was written on has 2 cores and steal time: only medians of
// interleaved rounds are meaningful, single figures are not.

const { AsyncLocalStorage } = require('node:async_hooks')
const { monitorEventLoopDelay, performance } = require('node:perf_hooks')

const baton = require('..')
const { plainAsyncTask } = require('../lib/shared/binding')
const h = require('./harness')

const USAGE = `usage: node bench/tasks.js [--quick] [--json]
  --quick  short run (CI: checks that the benchmark works)
  --json   the figures as JSON instead of Markdown tables`
const { quick: QUICK, json: JSON_OUT } = h.benchOptions(USAGE)

const CONFIG = QUICK
  ? { serialTasks: 300, batchTasks: 10_000, warmupRounds: 2, rounds: 3, fibN: 1_000_000, fibWarmup: 1, fibRuns: 2 }
  : { serialTasks: 500, batchTasks: 10_000, warmupRounds: 5, rounds: 61, fibN: 1_000_000, fibWarmup: 1, fibRuns: 15 }

const TARGET_ROUND_TRIP = 1.15 // baton / plain
const TARGET_FIB = 1.0 // baton / JS
const TARGET_DELAY_MS = 5 // max event loop delay while baton's task runs

// A full GC between rounds, so that one round does not pay for the last one's garbage.
const collect = h.collector()

const als = new AsyncLocalStorage()
const now = () => performance.now() // ms, sub-µs resolution

// --- 1. round trip --------------------------------------------------------------

const IMPLS = {
  baton: { promise: () => baton.performAsyncTask(), callback: (cb) => baton.performAsyncTask(cb) },
  plain: { promise: () => plainAsyncTask(), callback: (cb) => plainAsyncTask(cb) },
}

// Each mode runs `n` tasks and resolves to the elapsed ms, from the first submission
// to the last settlement.
const MODES = {
  'promise, one at a time': {
    key: 'promiseSerial',
    async run(impl, n) {
      const start = now()
      for (let i = 0; i < n; i++) await impl.promise()
      return now() - start
    },
  },
  'callback, one at a time': {
    key: 'callbackSerial',
    run(impl, n) {
      return new Promise((resolve, reject) => {
        let left = n
        let start
        const next = (err) => {
          if (err) return reject(err)
          if (--left === 0) return resolve(now() - start)
          impl.callback(next)
        }
        start = now()
        impl.callback(next)
      })
    },
  },
  'promise, 10,000 at once': {
    key: 'promiseBatch',
    batch: true,
    async run(impl, n) {
      const pending = new Array(n)
      const start = now()
      for (let i = 0; i < n; i++) pending[i] = impl.promise()
      await Promise.all(pending)
      return now() - start
    },
  },
  'callback, 10,000 at once': {
    key: 'callbackBatch',
    batch: true,
    run(impl, n) {
      return new Promise((resolve, reject) => {
        let left = n
        const done = (err) => {
          if (err) return reject(err)
          if (--left === 0) resolve(now() - start)
        }
        const start = now()
        for (let i = 0; i < n; i++) impl.callback(done)
      })
    },
  },
}

function tasksFor(mode) {
  return mode.batch ? CONFIG.batchTasks : CONFIG.serialTasks
}

/** One round: `n` tasks of `impl` in `mode`, inside a fresh store. Resolves to µs per task. */
async function round(impl, mode) {
  collect()
  const n = tasksFor(mode)
  const ms = await als.run({ round: true }, () => mode.run(impl, n))
  return (ms * 1000) / n
}

/**
 * Outside the timed rounds: does the settlement (callback, or continuation after
 * `await`) still see the store of the `run()` it was started in?
 */
async function keepsContext(impl, mode) {
  const store = { check: true }
  let seen = 0
  const n = 20
  await als.run(store, () => {
    if (mode.key.startsWith('promise')) {
      const one = async () => {
        await impl.promise()
        if (als.getStore() === store) seen++
      }
      return mode.batch ? Promise.all(Array.from({ length: n }, one)) : (async () => { for (let i = 0; i < n; i++) await one() })()
    }
    return new Promise((resolve, reject) => {
      let left = n
      const done = (err) => {
        if (err) return reject(err)
        if (als.getStore() === store) seen++
        if (--left === 0) resolve()
        else if (!mode.batch) impl.callback(done)
      }
      if (mode.batch) for (let i = 0; i < n; i++) impl.callback(done)
      else impl.callback(done)
    })
  })
  return seen === n
}

async function roundTrips() {
  const results = {}
  for (const [name, mode] of Object.entries(MODES)) {
    results[mode.key] = {
      name,
      tasksPerRound: tasksFor(mode),
      keepsContext: { baton: await keepsContext(IMPLS.baton, mode), plain: await keepsContext(IMPLS.plain, mode) },
      warmup: { baton: [], plain: [] },
      rounds: { baton: [], plain: [] },
    }
  }
  const total = CONFIG.warmupRounds + CONFIG.rounds
  for (let r = 0; r < total; r++) {
    const warm = r < CONFIG.warmupRounds
    const order = h.roundOrder(r, ['baton', 'plain'])
    for (const mode of Object.values(MODES)) {
      const res = results[mode.key]
      for (const which of order) (warm ? res.warmup : res.rounds)[which].push(await round(IMPLS[which], mode))
    }
    h.progress(`round trip: round ${r + 1}/${total}${warm ? ' (warm-up)' : ''}`)
  }
  const out = {}
  for (const res of Object.values(results)) {
    const ratio = h.compare(res.rounds.baton, res.rounds.plain)
    const b = h.median(res.rounds.baton)
    const p = h.median(res.rounds.plain)
    out[res.name] = {
      tasksPerRound: res.tasksPerRound,
      rounds: CONFIG.rounds,
      keepsContext: res.keepsContext,
      batonUsPerTask: b,
      plainUsPerTask: p,
      ratio: ratio.ofMedians,
      pairedRatioMedian: ratio.paired,
      pairedRatioSpread: ratio.spread,
      spreadUs: { baton: h.range(res.rounds.baton), plain: h.range(res.rounds.plain) },
      // First round relative to the median: above 1 means warm-up cost.
      firstRoundVsMedian: { baton: res.warmup.baton[0] / b, plain: res.warmup.plain[0] / p },
      warmupUsPerTask: res.warmup,
      roundsUsPerTask: res.rounds,
      target: TARGET_ROUND_TRIP,
      meetsTarget: b / p <= TARGET_ROUND_TRIP,
    }
  }
  return out
}

// --- 2. fibonacci ---------------------------------------------------------------

/**
 * F(n) by fast doubling, as src/tasks/fibonacci.rs computes it: over the bits of `n`
 * from the top, from (F(k), F(k+1)): F(2k) = F(k)·(2·F(k+1) − F(k)) and
 * F(2k+1) = F(k)² + F(k+1)²; the last step computes only the number it returns.
 */
function fibonacciJs(n) {
  let a = 0n
  let b = 1n
  for (let i = 32 - Math.clz32(n) - 1; i >= 0; i--) {
    const odd = ((n >>> i) & 1) === 1
    if (i === 0) return odd ? a * a + b * b : a * ((b << 1n) - a)
    const evenHalf = a * ((b << 1n) - a)
    const oddHalf = a * a + b * b
    if (odd) {
      const next = evenHalf + oddHalf
      a = oddHalf
      b = next
    } else {
      a = evenHalf
      b = oddHalf
    }
  }
  return a
}

function checkFibonacciJs() {
  let a = 0n
  let b = 1n
  for (let n = 0; n < 300; n++) {
    if (fibonacciJs(n) !== a) throw new Error(`fibonacciJs(${n}) is wrong`)
    ;[a, b] = [b, a + b]
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

const PING_MS = 1

/**
 * Runs `work` (sync or async) while the event loop is watched by a fresh
 * monitorEventLoopDelay (resolution 1 ms; a re-enabled monitor would record the
 * whole time it was off as one delay) and by a 1 ms setInterval ping, whose lateness
 * beyond its period goes into a histogram. Both run a few ms before and after the
 * work, so that a stall at its very end is seen too. Resolves to the work's value,
 * its wall time and the delays (ms).
 */
async function watched(work) {
  const monitor = monitorEventLoopDelay({ resolution: 1 })
  let pingMaxLateMs = 0
  let last = now()
  const timer = setInterval(() => {
    const t = now()
    pingMaxLateMs = Math.max(pingMaxLateMs, t - last - PING_MS)
    last = t
  }, PING_MS)
  monitor.enable()
  await sleep(5)
  const start = now()
  const value = await work()
  const ms = now() - start
  await sleep(10)
  monitor.disable()
  clearInterval(timer)
  return {
    value,
    ms,
    delay: { maxMs: monitor.max / 1e6, p99Ms: monitor.percentile(99) / 1e6, pingMaxLateMs },
  }
}

const IDLE_MS = 20

async function fibonacciBench() {
  checkFibonacciJs()
  const n = CONFIG.fibN
  const runs = {
    baton: () => als.run({ fib: true }, () => baton.fibonacci(n)),
    js: () => als.run({ fib: true }, () => fibonacciJs(n)),
    // For contrast: what this machine's loop delay is when nothing runs at all.
    idle: () => sleep(IDLE_MS),
  }
  const warmup = { baton: [], js: [] }
  const all = { baton: [], js: [] }
  const delays = { baton: [], js: [], idle: [] }
  let same = true
  const total = CONFIG.fibWarmup + CONFIG.fibRuns
  for (let r = 0; r < total; r++) {
    const warm = r < CONFIG.fibWarmup
    const got = {}
    for (const which of h.roundOrder(r, ['baton', 'js', 'idle'])) {
      collect()
      got[which] = await watched(runs[which])
      // Warm-up runs are watched too: the first conversion must not stall the loop either.
      delays[which].push(got[which].delay)
      if (which === 'idle') continue
      ;(warm ? warmup : all)[which].push(got[which].ms)
    }
    if (typeof got.baton.value !== 'bigint' || got.baton.value !== got.js.value) same = false
    h.progress(`fibonacci: run ${r + 1}/${total}${warm ? ' (warm-up)' : ''}`)
  }
  if (!same) throw new Error(`fibonacci(${n}): baton and the JS version disagree`)
  const summary = (which) => {
    const list = delays[which]
    const maxOf = (key) => Math.max(...list.map((d) => d[key]))
    return {
      maxMs: maxOf('maxMs'),
      medianOfRunMaxMs: h.median(list.map((d) => d.maxMs)),
      p99MaxMs: maxOf('p99Ms'),
      pingMaxLateMs: maxOf('pingMaxLateMs'),
      perRun: list,
    }
  }
  const b = h.median(all.baton)
  const j = h.median(all.js)
  const ratio = h.compare(all.baton, all.js)
  const batonDelay = summary('baton')
  return {
    n,
    runs: CONFIG.fibRuns,
    sameValue: same,
    batonMs: b,
    jsMs: j,
    ratio: ratio.ofMedians,
    ratioSpread: ratio.spread,
    firstRunVsMedian: { baton: warmup.baton[0] / b, js: warmup.js[0] / j },
    warmupMs: warmup,
    runsMs: all,
    // monitorEventLoopDelay records whole intervals, so its figures include the 1 ms
    // resolution; the ping's are lateness beyond its 1 ms period. Over every run,
    // warm-up included.
    loopDelay: { resolutionMs: 1, idleMs: IDLE_MS, baton: batonDelay, js: summary('js'), idle: summary('idle') },
    target: { ratio: TARGET_FIB, maxDelayMs: TARGET_DELAY_MS },
    meetsTarget: { ratio: b / j <= TARGET_FIB, delay: batonDelay.maxMs < TARGET_DELAY_MS },
  }
}

// --- output ---------------------------------------------------------------------

const f = h.fixed

function tables(result) {
  const anyMode = Object.values(result.roundTrip)[0]
  const modes = Object.entries(result.roundTrip)
  const roundTrip = {
    id: 'tasks-round-trip',
    title: 'Background tasks: baton against the plain napi-rs path',
    notes: [
      `Round trip of a trivial task inside \`AsyncLocalStorage.run()\`, baton (\`performAsyncTask\`) against the plain napi-rs ` +
        `\`AsyncTask\` path of the same addon (which loses the context on Node 24/26): µs per task, median of ${anyMode.rounds} ` +
        `interleaved rounds (after ${CONFIG.warmupRounds} discarded warm-up); "paired" is the median (and range) of the ratios ` +
        `taken within each round. Target: baton / plain ≤ ${TARGET_ROUND_TRIP}x.`,
    ],
    columns: ['mode', 'tasks/round', 'baton µs', 'plain µs', 'baton / plain', 'paired', `≤ ${TARGET_ROUND_TRIP}x`, '1st round ÷ median (baton, plain)', 'context kept (baton, plain)'],
    align: ['left', 'right', 'right', 'right', 'right', 'right', 'center', 'right', 'center'],
    rows: modes.map(([name, r]) => [
      name,
      String(r.tasksPerRound),
      f(r.batonUsPerTask),
      f(r.plainUsPerTask),
      `**${h.times(r.ratio)}**`,
      `${h.times(r.pairedRatioMedian)} (${h.span(r.pairedRatioSpread, h.times)})`,
      h.yes(r.meetsTarget),
      `${f(r.firstRoundVsMedian.baton)}, ${f(r.firstRoundVsMedian.plain)}`,
      `${r.keepsContext.baton ? 'yes' : 'no'}, ${r.keepsContext.plain ? 'yes' : 'no'}`,
    ]),
    chart: {
      kind: 'ratio',
      caption: 'baton / plain napi-rs AsyncTask, time per task (lower is better)',
      bars: modes.map(([name, r]) => ({ label: name, value: r.ratio, spread: r.pairedRatioSpread, target: TARGET_ROUND_TRIP, better: 'lower' })),
    },
  }

  const fib = result.fibonacci
  const d = fib.loopDelay
  const delayRow = (label, key) => ({ label, baton: d.baton[key], js: d.js[key], idle: d.idle[key] })
  const fibRows = [
    { label: 'wall ms', baton: fib.batonMs, js: fib.jsMs, idle: null, spread: fib.ratioSpread, target: TARGET_FIB, targetText: `≤ ${TARGET_FIB.toFixed(1)}x (${h.yes(fib.meetsTarget.ratio)})` },
    { ...delayRow('loop delay, worst spike ms', 'maxMs'), targetText: `baton < ${TARGET_DELAY_MS} ms (${h.yes(fib.meetsTarget.delay)})` },
    delayRow("loop delay, median run's max ms", 'medianOfRunMaxMs'),
    delayRow('loop delay, worst run p99 ms', 'p99MaxMs'),
    delayRow('1 ms ping, most late ms', 'pingMaxLateMs'),
  ]
  const fibonacci = {
    id: 'tasks-fibonacci',
    title: `Background tasks: fibonacci(${fib.n.toLocaleString('en-US')}) on the libuv pool against JS BigInt on the main thread`,
    notes: [
      `Wall ms until the value is a JS BigInt, median of ${fib.runs} interleaved runs (after ${CONFIG.fibWarmup} warm-up); ` +
        `same value: ${fib.sameValue ? 'yes' : 'NO'}. Event loop delay: a fresh monitorEventLoopDelay per run (resolution 1 ms; ` +
        `its figures include it) and a 1 ms setInterval ping (lateness beyond 1 ms), over all runs, warm-up included; "idle" ` +
        `sleeps ${d.idleMs} ms meanwhile, for contrast (this machine's own loop delay).`,
    ],
    columns: ['', 'baton (pool thread)', 'JS BigInt (main thread)', 'idle', 'baton / JS', 'target'],
    align: ['left', 'right', 'right', 'right', 'right', 'left'],
    rows: fibRows.map((r) => [r.label, f(r.baton, 1), f(r.js, 1), r.idle === null ? '' : f(r.idle, 1), `**${h.times(r.baton / r.js)}**`, r.targetText ?? '']),
    chart: {
      kind: 'ratio',
      caption: 'baton / JS BigInt on the main thread (lower is better)',
      bars: fibRows.map((r) => ({ label: r.label, value: r.baton / r.js, spread: r.spread ?? null, target: r.target ?? null, better: 'lower' })),
    },
  }
  return [roundTrip, fibonacci]
}

async function main() {
  const started = now()
  const roundTrip = await roundTrips()
  const fib = await fibonacciBench()
  h.progress('')
  const result = {
    benchmark: 'tasks',
    title: 'Background tasks: baton against the plain napi-rs path and the main thread',
    machine: h.machine(),
    quick: QUICK,
    forcedGcBetweenRounds: collect.name === 'gc',
    config: CONFIG,
    roundTrip,
    fibonacci: fib,
  }
  result.tables = tables(result)
  result.seconds = (now() - started) / 1000
  h.printResult(result, JSON_OUT)
}

main().catch((error) => {
  h.progress('')
  console.error(error)
  process.exitCode = 1
})
