'use strict'

// Every workload of issue 12, side by side, in one run, 2 threads: baton's WorkerPool,
// piscina, tinypool and workerpool, each with the same tasks (bench/fixtures/workloads.js)
// and its own API for them. `npm run bench`, or `node bench/pool-workloads.js [--quick] [--json]`.
//
// Workloads (each a fresh child process per pool and round, rounds in alternating order):
// - `a + b`, all submitted at once and 64 in flight: tasks per second; with 64 in flight
//   also the main thread's CPU per task (bench/harness.js: cpuUs, the method of bench/pool.js).
// - a 1 KB JSON-like object in and out (the worker returns what it got), 64 in flight.
// - a 1 MB ArrayBuffer in and out, 16 in flight: moved by each pool's own transfer API
//   (piscina's and tinypool's `transferList` and `move()`, workerpool's `transfer` and
//   `Transfer`; baton's `transferList`, and its `move()` where it has one).
// - CPU-bound tasks of about 1 ms (a PBKDF2 hash), all at once: tasks per second, against
//   threads × the rate of one thread running the same task in a loop (in the same process,
//   right after each timed run).
// - one task sent to an idle pool (10 ms between tasks, long enough for its workers to
//   sleep): latency from `run()` to the settlement, p50 and p99.
// - memory: RSS over the same process before the pool (its module loaded), per idle
//   worker; and the RSS added while 100,000 tasks are queued (submitted in one
//   synchronous loop while every worker is held busy, so that all of them wait).
//
// Each figure is baton's against each peer and against the best peer of that round;
// ratios are the median over rounds of the ratios taken within a round. Goals are
// issue 12's; a goal missed is reported, never fatal.
//
// Floors, for information, in the same rounds: what bare worker_threads reach on this
// machine with no pool at all, which no pool can beat. The CPU-bound task run back to
// back by `threads` bare Workers (no message per task, and a message back per task);
// one message to an idle bare Worker and back, by postMessage both ways and by
// Atomics.notify to a worker asleep in Atomics.wait with postMessage back (piscina's
// wake-up); the RSS of an idle bare Worker.

const { once } = require('node:events')
const { join } = require('node:path')
const { performance } = require('node:perf_hooks')
const { pathToFileURL } = require('node:url')
const { MessageChannel, Worker } = require('node:worker_threads')

const h = require('./harness')
const { hash, order } = require('./fixtures/workloads')

const FIXTURES = join(__dirname, 'fixtures')
const THREADS = 2
const IN_FLIGHT = 64
const BUFFER_BYTES = 1 << 20
const BUFFERS_IN_FLIGHT = 16
const IDLE_MS = 10
const PEERS = ['piscina', 'tinypool', 'workerpool']
const POOLS = ['baton', ...PEERS]

// --- The pools, each as `{ run(name, task, transfer), close(), destroy() }`, each a promise --

/** Each pool's module, loaded before the baseline of the memory figures. */
const LOAD = {
  // The package entry loads each part when first read: read the pool, as a program would, so
  // that the main thread's pool code and native binding are in the baseline, as the peers' are.
  baton: async () => ({ WorkerPool: require('..').WorkerPool }),
  piscina: async () => require('piscina'),
  tinypool: () => import('tinypool'),
  workerpool: async () => require('workerpool'),
}

/** A pool with piscina's `run(task, { name, transferList })`: baton's, piscina's, tinypool's. */
function byName(pool, close) {
  return {
    run: (name, task, transfer) => pool.run(task, transfer === undefined ? { name } : { name, transferList: transfer }),
    close,
    destroy: () => pool.destroy(),
  }
}

const OPEN = {
  baton({ WorkerPool }) {
    const pool = new WorkerPool({ filename: join(FIXTURES, 'workloads-baton.js'), minThreads: THREADS, maxThreads: THREADS })
    return byName(pool, () => pool.close())
  },
  piscina({ Piscina }) {
    const pool = new Piscina({ filename: join(FIXTURES, 'workloads-piscina.js'), minThreads: THREADS, maxThreads: THREADS })
    return byName(pool, () => pool.destroy())
  },
  tinypool({ Tinypool }) {
    const filename = pathToFileURL(join(FIXTURES, 'workloads-tinypool.mjs')).href
    const pool = new Tinypool({ filename, minThreads: THREADS, maxThreads: THREADS })
    return byName(pool, () => pool.destroy())
  },
  workerpool(workerpool) {
    const pool = workerpool.pool(join(FIXTURES, 'workloads-workerpool.js'), { minWorkers: THREADS, maxWorkers: THREADS, workerType: 'thread' })
    return {
      run: (name, task, transfer) => pool.exec(name, [task], transfer === undefined ? undefined : { transfer }),
      close: () => pool.terminate(),
      destroy: () => pool.terminate(true),
    }
  },
}

// --- The workloads, in a child ----------------------------------------------------------

/** Keeps `width` tasks out until `n` have settled; `submit(i)` returns task i's promise. */
function keepInFlight(width, n, submit) {
  return new Promise((resolve, reject) => {
    let submitted = 0
    let left = n
    const next = () => submit(submitted++).then(done, reject)
    const done = () => {
      if (--left === 0) resolve()
      else if (submitted < n) next()
    }
    for (let k = 0; k < Math.min(width, n); k++) next()
  })
}

/** Submits `n` tasks in one synchronous loop and waits for them all. */
function allAtOnce(n, submit) {
  return Promise.all(Array.from({ length: n }, (_, i) => submit(i)))
}

function check(ok, what) {
  if (!ok) throw new Error(`wrong result: ${what}`)
}

/**
 * `work(n)` timed `reps` times after a warm-up of `warmup` tasks: the median tasks/s and
 * main-thread µs/task. With `alone`, each timed run is followed by one thread's rate at the
 * same task (`alone(n)` on this thread, the workers idle), so that each run's efficiency
 * (its rate over THREADS × that one) pairs figures taken seconds apart: this machine's
 * speed drifts by ±10% over a minute, more than the differences being measured.
 */
async function throughput(work, { tasks, warmup, reps }, alone) {
  const collect = h.collector()
  await work(warmup)
  const runs = []
  for (let r = 0; r < reps; r++) {
    collect()
    const cpu = h.cpuUs()
    const start = performance.now()
    await work(tasks)
    const ms = performance.now() - start
    const run = { tasksPerSec: (tasks * 1000) / ms, cpuUsPerTask: (h.cpuUs() - cpu) / tasks }
    if (alone !== undefined) {
      const started = performance.now()
      alone(tasks / THREADS)
      run.oneThreadTasksPerSec = (tasks * 1000) / THREADS / (performance.now() - started)
      run.efficiency = run.tasksPerSec / (THREADS * run.oneThreadTasksPerSec)
    }
    runs.push(run)
  }
  const medians = Object.keys(runs[0]).map((figure) => [figure, h.median(runs.map((run) => run[figure]))])
  return Object.fromEntries(medians)
}

const add = (pool) => (i) =>
  pool.run('add', { a: i, b: 1 }).then((sum) => check(sum === i + 1, `add(${i}, 1) gave ${sum}`))

const WORKLOADS = {
  atOnce: (pool, c) => throughput((n) => allAtOnce(n, add(pool)), c.add),
  inFlight: (pool, c) => throughput((n) => keepInFlight(IN_FLIGHT, n, add(pool)), c.add),
  object: (pool, c) =>
    throughput(
      (n) =>
        keepInFlight(IN_FLIGHT, n, (i) =>
          pool.run('echo', order(i)).then((back) => check(back.id === i && back.items.length === 8 && back.customer.tags[2] === 'newsletter', 'the object came back changed')),
        ),
      c.object,
    ),
  buffer: (pool, c) =>
    throughput(
      (n) =>
        keepInFlight(BUFFERS_IN_FLIGHT, n, (i) => {
          const buffer = new ArrayBuffer(BUFFER_BYTES)
          return pool.run('buffer', buffer, [buffer]).then((back) => {
            check(buffer.byteLength === 0, `task ${i}'s buffer was not transferred (still ${buffer.byteLength} bytes here)`)
            check(back instanceof ArrayBuffer && back.byteLength === BUFFER_BYTES && new Uint8Array(back)[0] === 1, 'the buffer did not come back')
          })
        }),
      c.buffer,
    ),
  cpu: (pool, c) => {
    const expected = hash(c.hashIterations)
    const submit = () => pool.run('hash', c.hashIterations).then((x) => check(x === expected, 'hash'))
    return throughput((n) => allAtOnce(n, submit), c.cpu, hashAlone(c))
  },
  async latency(pool, c) {
    // Every worker has run tasks before the first sample.
    await allAtOnce(THREADS * 8, add(pool))
    return idleLatency(add(pool), c)
  },
  async memory(pool, c, baseline) {
    const collect = h.collector()
    await allAtOnce(THREADS * 8, add(pool))
    await sleep(200)
    collect()
    const idle = process.memoryUsage.rss()
    // Every worker busy, so that what follows waits in the queue rather than runs; the
    // pool is destroyed once the figure is read, so the hold may be generous.
    const held = Promise.all(Array.from({ length: THREADS }, () => pool.run('hold', c.holdMs)))
    await sleep(50)
    const start = performance.now()
    const settled = allAtOnce(c.queued, add(pool))
    const queued = process.memoryUsage.rss()
    const ms = performance.now() - start
    held.catch(() => {})
    settled.catch(() => {})
    await pool.destroy()
    check(ms < c.holdMs - 100, `queueing ${c.queued} tasks took ${ms.toFixed(0)} ms, longer than the workers were held`)
    return { rssPerWorkerMiB: (idle - baseline) / THREADS / 2 ** 20, rssQueuedMiB: (queued - idle) / 2 ** 20 }
  },
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

/** `roundTrip(i)` timed after IDLE_MS of idleness, `c.latency.samples` times: p50 and p99, µs. */
async function idleLatency(roundTrip, c) {
  const samples = []
  for (let i = 0; i < c.latency.samples; i++) {
    await sleep(IDLE_MS)
    const start = performance.now()
    await roundTrip(i)
    samples.push((performance.now() - start) * 1000)
  }
  return { p50Us: percentile(samples, 50), p99Us: percentile(samples, 99) }
}

/** The `p`th percentile of `values` (nearest rank). */
function percentile(values, p) {
  const sorted = [...values].sort((x, y) => x - y)
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]
}

/** `n` CPU-bound tasks on this thread, one after another: one thread's rate, for `throughput`. */
function hashAlone(c) {
  return (n) => {
    for (let i = 0; i < n; i++) hash(c.hashIterations)
  }
}

// --- Floors: bare worker_threads, no pool ----------------------------------------------

/** A bare Worker running `source` (CommonJS, evaluated), started. */
async function startBare(source, options = {}) {
  const worker = new Worker(source, { eval: true, ...options })
  await once(worker, 'online')
  return worker
}

/** The reply to `send()`: the worker's next message. */
function reply(worker, send) {
  const message = once(worker, 'message').then(([value]) => value)
  send()
  return message
}

/**
 * A loop of the CPU-bound task per message: one message back when it is done, or
 * (`workerData.replying`) one per task as each is done, as a pool's worker reports results.
 */
const HASHER = `const { parentPort, workerData } = require('node:worker_threads')
const { hash } = require(workerData.tasks)
parentPort.on('message', (n) => {
  let x
  for (let i = 0; i < n; i++) {
    x = hash(workerData.iterations)
    if (workerData.replying) parentPort.postMessage(x)
  }
  if (!workerData.replying) parentPort.postMessage(x)
})`

/** THREADS bare HASHERs, each the CPU-bound task back to back: tasks/s. */
async function bareHashers(c, replying) {
  const workerData = { tasks: join(FIXTURES, 'workloads.js'), iterations: c.hashIterations, replying }
  const workers = await Promise.all(Array.from({ length: THREADS }, () => startBare(HASHER, { workerData })))
  const expected = hash(c.hashIterations)
  const run = (worker, n) =>
    new Promise((resolve) => {
      let left = replying ? n : 1
      const onMessage = (x) => {
        check(x === expected, 'hash')
        if (--left === 0) {
          worker.off('message', onMessage)
          resolve()
        }
      }
      worker.on('message', onMessage)
      worker.postMessage(n)
    })
  const result = await throughput((n) => Promise.all(workers.map((worker) => run(worker, n / THREADS))), c.cpu, hashAlone(c))
  await Promise.all(workers.map((worker) => worker.terminate()))
  return result
}

/** Replies to each message with its value plus one. */
const ECHO = `const { parentPort } = require('node:worker_threads')
parentPort.on('message', (x) => parentPort.postMessage(x + 1))`

/**
 * Asleep in Atomics.wait until the counter moves, then takes what was posted on its port
 * (receiveMessageOnPort) and replies by postMessage, as piscina's workers do; a negative
 * counter ends it.
 */
const SLEEPER = `const { parentPort, receiveMessageOnPort, workerData } = require('node:worker_threads')
const { state, port } = workerData
for (let seen = 0; seen >= 0; ) {
  Atomics.wait(state, 0, seen)
  seen = Atomics.load(state, 0)
  for (let entry; (entry = receiveMessageOnPort(port)) !== undefined; ) parentPort.postMessage(entry.message + 1)
}`

const FLOORS = {
  /** THREADS bare Workers, each the CPU-bound task back to back: the ceiling of the CPU-bound workload here. */
  bareThreads: (c) => bareHashers(c, false),
  /** The same, each result posted back as it is done: what a pool that reports every result can reach at most. */
  bareThreadsReplying: (c) => bareHashers(c, true),
  /** One message to an idle bare Worker and back, postMessage both ways. */
  async barePost(c) {
    const worker = await startBare(ECHO)
    const roundTrip = (i) => reply(worker, () => worker.postMessage(i)).then((x) => check(x === i + 1, 'echo'))
    for (let i = 0; i < THREADS * 8; i++) await roundTrip(i)
    const result = await idleLatency(roundTrip, c)
    await worker.terminate()
    return result
  },
  /** The same by Atomics.notify to a worker asleep in Atomics.wait, postMessage back. */
  async bareAtomics(c) {
    const state = new Int32Array(new SharedArrayBuffer(4))
    const { port1, port2 } = new MessageChannel()
    const worker = await startBare(SLEEPER, { workerData: { state, port: port2 }, transferList: [port2] })
    const roundTrip = (i) =>
      reply(worker, () => {
        port1.postMessage(i)
        Atomics.add(state, 0, 1)
        Atomics.notify(state, 0, 1)
      }).then((x) => check(x === i + 1, 'echo'))
    for (let i = 0; i < THREADS * 8; i++) await roundTrip(i)
    const result = await idleLatency(roundTrip, c)
    Atomics.store(state, 0, -1)
    Atomics.notify(state, 0, 1)
    await once(worker, 'exit')
    port1.close()
    return result
  },
  /** THREADS idle bare Workers running nothing: the RSS each adds, measured as the pools' is. */
  async bareWorker() {
    const collect = h.collector()
    collect()
    const baseline = process.memoryUsage.rss()
    const workers = await Promise.all(Array.from({ length: THREADS }, () => startBare('setInterval(() => {}, 1 << 30)')))
    await sleep(200)
    collect()
    const idle = process.memoryUsage.rss()
    await Promise.all(workers.map((worker) => worker.terminate()))
    return { rssPerWorkerMiB: (idle - baseline) / THREADS / 2 ** 20 }
  },
}

/** Each workload's floors, run beside its pools in every round. */
const FLOORS_OF = { cpu: ['bareThreads', 'bareThreadsReplying'], latency: ['barePost', 'bareAtomics'], memory: ['bareWorker'] }

async function child(poolName, workload, config) {
  if (Object.hasOwn(FLOORS, poolName)) return FLOORS[poolName](config)
  const lib = await LOAD[poolName]()
  h.collector()()
  const baseline = process.memoryUsage.rss()
  const pool = OPEN[poolName](lib)
  let result
  try {
    result = await WORKLOADS[workload](pool, config, baseline)
  } catch (error) {
    // What is still out would keep the pool open: it goes, and the error is reported.
    await pool.destroy().catch(() => {})
    throw error
  }
  // The memory workload destroys its pool itself.
  if (workload !== 'memory') await pool.close()
  return result
}

if (process.argv[2] === '--child') {
  const [, , , poolName, workload, config] = process.argv
  h.childResult(() => child(poolName, workload, JSON.parse(config)))
  return
}

// --- In the parent: rounds, ratios, goals -----------------------------------------------

const USAGE = `usage: node bench/pool-workloads.js [--quick] [--json] [--workloads <list>]
  --quick             small counts and one round (CI: checks that the benchmark works)
  --json              the figures as JSON instead of Markdown tables
  --workloads <list>  only these, comma-separated: ${Object.keys(WORKLOADS).join(', ')}`
const { quick: QUICK, json: JSON_OUT, workloads: ONLY } = h.benchOptions(USAGE, { workloads: { type: 'string' } })
const SELECTED = ONLY === undefined ? Object.keys(WORKLOADS) : ONLY.split(',')
for (const workload of SELECTED) {
  if (!Object.hasOwn(WORKLOADS, workload)) {
    console.error(`${USAGE}\n\n--workloads: no workload ${JSON.stringify(workload)}`)
    process.exit(2)
  }
}

/** Tasks per timed run of each throughput workload in a full run; a quick run does a twentieth. */
const TASKS = { add: 20_000, object: 5_000, buffer: 1_000, cpu: 1_000 }
const CONFIG = {
  rounds: QUICK ? 1 : 3,
  latency: { samples: QUICK ? 20 : 200 },
  queued: QUICK ? 10_000 : 100_000,
  holdMs: QUICK ? 5_000 : 30_000,
  ...Object.fromEntries(
    Object.entries(TASKS).map(([workload, n]) => {
      const tasks = QUICK ? n / 20 : n
      return [workload, { tasks, warmup: tasks / 5, reps: QUICK ? 1 : 3 }]
    }),
  ),
}

/** Iterations of `hash` that take about 1 ms on this machine now: the same for every pool of the run. */
function hashIterationsForOneMs() {
  let iterations = 1000
  for (let attempt = 0; attempt < 8; attempt++) {
    hash(iterations) // warm
    const times = Array.from({ length: 21 }, () => {
      const start = performance.now()
      hash(iterations)
      return performance.now() - start
    })
    const ms = h.median(times)
    if (Math.abs(ms - 1) < 0.05) break
    iterations = Math.max(10, Math.round(iterations / ms))
  }
  return iterations
}

/**
 * What is compared: [workload, figure, label, chart label, better, goals]. A goal is
 * `{ against: 'piscina' | 'best' | 'ideal', ratio }`: baton's figure over piscina's,
 * over the best peer's of the same round, or (the CPU-bound row) the pool's own
 * throughput over `threads × one thread's rate`.
 */
const ROWS = [
  ['atOnce', 'tasksPerSec', '`a + b`, all at once: tasks/s', 'a + b, at once', 'higher', [{ against: 'piscina', ratio: 5 }, { against: 'best', ratio: 5 }]],
  ['inFlight', 'tasksPerSec', `\`a + b\`, ${IN_FLIGHT} in flight: tasks/s`, `a + b, ${IN_FLIGHT} in flight`, 'higher', [{ against: 'piscina', ratio: 5 }, { against: 'best', ratio: 5 }]],
  ['object', 'tasksPerSec', `1 KB object in and out, ${IN_FLIGHT} in flight: tasks/s`, '1 KB object', 'higher', [{ against: 'best', ratio: 3 }]],
  ['buffer', 'tasksPerSec', `1 MB ArrayBuffer transferred in and out, ${BUFFERS_IN_FLIGHT} in flight: tasks/s`, '1 MB buffer', 'higher', [{ against: 'best', ratio: 1 }]],
  ['cpu', 'tasksPerSec', 'CPU-bound tasks of about 1 ms, all at once: tasks/s', 'CPU-bound, 1 ms', 'higher', [{ against: 'ideal', ratio: 0.95 }, { against: 'best', ratio: 1 }]],
  ['latency', 'p50Us', `one task to an idle pool (${IDLE_MS} ms idle before it): p50 µs`, 'idle pool, p50', 'lower', [{ against: 'piscina', ratio: 0.5 }]],
  ['latency', 'p99Us', 'one task to an idle pool: p99 µs', 'idle pool, p99', 'lower', [{ against: 'piscina', ratio: 0.5 }]],
  ['memory', 'rssPerWorkerMiB', 'RSS per idle worker: MiB', 'RSS per idle worker', 'lower', [{ against: 'piscina', ratio: 1 }]],
  ['memory', 'rssQueuedMiB', 'RSS added with N tasks queued: MiB', 'RSS, tasks queued', 'lower', [{ against: 'piscina', ratio: 1 }]],
  ['inFlight', 'cpuUsPerTask', `main-thread CPU per task, \`a + b\`, ${IN_FLIGHT} in flight: µs`, 'main-thread CPU per task', 'lower', [{ against: 'piscina', ratio: 0.3 }]],
]

/**
 * The floors reported, for information: [workload, floor, figure, label, chart label,
 * better]. Each pool's figure is reported over the floor's of the same round: for the
 * CPU-bound task the fraction of the bare threads' throughput it reaches, otherwise how
 * many times the floor it takes.
 */
const FLOOR_ROWS = [
  ['cpu', 'bareThreads', 'tasksPerSec', `CPU-bound tasks of about 1 ms, ${THREADS} bare Workers back to back: tasks/s`, 'CPU-bound', 'higher'],
  ['cpu', 'bareThreadsReplying', 'tasksPerSec', 'the same, each result posted back by postMessage: tasks/s', 'CPU-bound, a reply per task', 'higher'],
  ['latency', 'barePost', 'p50Us', `one message to a bare Worker idle ${IDLE_MS} ms and back, postMessage both ways: p50 µs`, 'idle p50, postMessage', 'lower'],
  ['latency', 'barePost', 'p99Us', 'the same: p99 µs', 'idle p99, postMessage', 'lower'],
  ['latency', 'bareAtomics', 'p50Us', 'the same by Atomics.notify to a worker in Atomics.wait, postMessage back: p50 µs', 'idle p50, Atomics', 'lower'],
  ['latency', 'bareAtomics', 'p99Us', 'the same: p99 µs', 'idle p99, Atomics', 'lower'],
  ['memory', 'bareWorker', 'rssPerWorkerMiB', 'RSS per idle bare Worker (running nothing): MiB', 'RSS per idle worker', 'lower'],
]

function measure(poolName, workload, config) {
  return h.runChild(__filename, ['--child', poolName, workload, JSON.stringify(config)], { timeout: 600_000 })
}

function main() {
  const started = performance.now()
  const config = { ...CONFIG, hashIterations: hashIterationsForOneMs() }
  const workloads = SELECTED
  /** perRound[workload][pool][round]: what the child reported. */
  const perRound = Object.fromEntries(workloads.map((w) => [w, Object.fromEntries(POOLS.map((p) => [p, []]))]))
  for (const workload of workloads) for (const floor of FLOORS_OF[workload] ?? []) perRound[workload][floor] = []
  for (let round = 0; round < config.rounds; round++) {
    for (const workload of workloads) {
      const contestants = [...POOLS, ...(FLOORS_OF[workload] ?? [])]
      for (const pool of h.roundOrder(round, contestants)) {
        h.progress(`pool workloads: round ${round + 1}/${config.rounds}, ${workload}, ${pool}`)
        perRound[workload][pool].push(measure(pool, workload, config))
      }
    }
  }
  h.progress('')

  const rows = ROWS.filter(([workload]) => workloads.includes(workload)).map(([workload, figure, label, short, better, goals]) => {
    const of = (pool) => perRound[workload][pool].map((r) => r[figure])
    const values = Object.fromEntries(POOLS.map((p) => [p, h.median(of(p))]))
    const pick = better === 'higher' ? Math.max : Math.min
    const best = of(PEERS[0]).map((_, i) => pick(...PEERS.map((p) => of(p)[i])))
    const vs = Object.fromEntries(PEERS.map((p) => [p, h.compare(of('baton'), of(p))]))
    vs.best = h.compare(of('baton'), best)
    const row = { workload, figure, label, short, better, values, vs, goals: [] }
    for (const goal of goals) {
      if (goal.against === 'ideal') {
        const efficiencies = (pool) => perRound.cpu[pool].map((r) => r.efficiency)
        row.oneThreadTasksPerSec = h.median(POOLS.flatMap((p) => perRound.cpu[p].map((r) => r.oneThreadTasksPerSec)))
        row.efficiency = Object.fromEntries(POOLS.map((p) => [p, h.median(efficiencies(p))]))
        row.goals.push({ ...goal, value: row.efficiency.baton, spread: h.range(efficiencies('baton')) })
      } else {
        const ratio = vs[goal.against]
        row.goals.push({ ...goal, value: ratio.paired, spread: ratio.spread })
      }
    }
    for (const goal of row.goals) goal.met = better === 'higher' || goal.against === 'ideal' ? goal.value >= goal.ratio : goal.value <= goal.ratio
    return row
  })
  const floors = FLOOR_ROWS.filter(([workload]) => workloads.includes(workload)).map(([workload, floor, figure, label, short, better]) => {
    const of = (name) => perRound[workload][name].map((r) => r[figure])
    const vs = Object.fromEntries(POOLS.map((p) => [p, h.compare(of(p), of(floor))]))
    const row = { workload, floor, figure, label, short, better, value: h.median(of(floor)), vs }
    if (workload === 'cpu') row.efficiency = h.median(perRound.cpu[floor].map((r) => r.efficiency))
    return row
  })
  const result = {
    benchmark: 'pool-workloads',
    title: 'Worker pools, every workload: baton against piscina, tinypool and workerpool',
    machine: h.machine(),
    quick: QUICK,
    config: { ...config, threads: THREADS, inFlight: IN_FLIGHT, bufferBytes: BUFFER_BYTES, buffersInFlight: BUFFERS_IN_FLIGHT, idleMs: IDLE_MS },
    cpuMeasure: h.CPU_MEASURE,
    versions: Object.fromEntries(PEERS.map((p) => [p, h.packageVersion(p)])),
    rows,
    floors,
    perRound,
  }
  result.tables = tables(result)
  result.seconds = (performance.now() - started) / 1000
  h.printResult(result, JSON_OUT)
}

/** A figure as the table prints it: rates in thousands, times and sizes with a decimal or two. */
function figure(row, x) {
  if (row.figure === 'tasksPerSec') return h.thousands(x)
  if (row.figure === 'cpuUsPerTask') return h.fixed(x, 1)
  return row.figure.endsWith('MiB') ? h.fixed(x, 2) : h.fixed(x, 0)
}

const GOAL_NAMES = { piscina: 'piscina', best: 'the best peer', ideal: `${THREADS} × one thread` }

function goalText(row, goal) {
  const sign = row.better === 'higher' || goal.against === 'ideal' ? '≥' : '≤'
  return `${sign} ${goal.ratio}x ${GOAL_NAMES[goal.against]}`
}

function tables(result) {
  const { config, rows, floors, versions } = result
  const label = (row) => row.label.replace('N tasks', `${config.queued.toLocaleString('en-US')} tasks`)
  const cpuName =
    result.cpuMeasure === 'threadCpuUsage'
      ? '`process.threadCpuUsage()` (user + system, main thread)'
      : '`performance.eventLoopUtilization()` active time (Node 20 has no `process.threadCpuUsage()`; it also counts time the main thread was preempted)'
  const cpuRow = rows.find((r) => r.efficiency !== undefined)
  const notes = [
    `${THREADS} threads; piscina ${versions.piscina}, tinypool ${versions.tinypool}, workerpool ${versions.workerpool} (worker threads). ` +
      `Each figure is the median of ${config.rounds} round${config.rounds === 1 ? '' : 's'}, a fresh process per pool, workload and round, ` +
      `each throughput the median of ${config.add.reps} timed run${config.add.reps === 1 ? '' : 's'} after a warm-up ` +
      `(${config.add.tasks.toLocaleString('en-US')} \`a + b\` tasks, ${config.object.tasks.toLocaleString('en-US')} objects, ` +
      `${config.buffer.tasks.toLocaleString('en-US')} buffers, ${config.cpu.tasks.toLocaleString('en-US')} CPU-bound tasks per run; ` +
      `${config.latency.samples} idle-pool samples).`,
    'Ratios are baton over the peer, the median of the ratios taken within each round (their range under "single rounds"); ' +
      '"best peer" is the best of the three in each round. The 1 MB buffer moves by each pool\'s own transfer API, both ways. ' +
      (cpuRow === undefined
        ? ''
        : `The CPU-bound task is a PBKDF2-SHA256 password hash of ${config.hashIterations.toLocaleString('en-US')} iterations (about 1 ms here; native code, so its time does not swing with V8's tiering as a JS loop's did on Node 24 and 26); ` +
          `one thread runs it at ${h.thousands(cpuRow.oneThreadTasksPerSec)} tasks/s (timed in each pool's process right after each of its timed runs, the workers idle), ` +
          `and each pool's throughput over ${THREADS} times that rate, the median of its runs' pairs, is ` +
          `${POOLS.map((p) => `${p} ${h.fixed(cpuRow.efficiency[p])}`).join(', ')}. `) +
      `Memory: RSS over the same process before the pool opened (its module loaded), per worker, idle after a warm-up; ` +
      `then what ${config.queued.toLocaleString('en-US')} tasks submitted in one loop add while they wait behind workers held busy. Main-thread CPU: ${cpuName}.`,
  ]
  const goalRows = rows.flatMap((row) => row.goals.map((goal) => ({ row, goal })))
  const [quiet, replying] = ['bareThreads', 'bareThreadsReplying'].map((floor) => floors.find((row) => row.floor === floor))
  const floorsTable = {
    id: 'pool-workloads-floors',
    title: 'Worker pools: the floors of this machine, bare worker_threads and no pool (for information)',
    notes: [
      'What no pool can beat here, measured in the same rounds as the pools above, a fresh process each: ' +
        `${THREADS} bare Workers each running the CPU-bound task back to back (a message per run of ${config.cpu.tasks.toLocaleString('en-US')} tasks, none per task), and the same with each result posted back as it is done; ` +
        `one message to a bare Worker idle for ${IDLE_MS} ms and back, by postMessage both ways, and by Atomics.notify to a worker asleep in Atomics.wait ` +
        "that takes the message from its port and answers by postMessage (piscina's wake-up); the RSS of idle bare Workers that run nothing, measured as the pools' is.",
      "Each pool over the floor, the median of the ratios taken within each round: for the CPU-bound task the fraction of the bare threads' throughput it reaches " +
        '(1.00x is the ceiling), for latency and memory how many times the floor it takes.' +
        (quiet === undefined
          ? ''
          : ` The bare threads reach ${h.fixed(quiet.efficiency)} of ${THREADS} × one thread's rate with no message per task, ` +
            `${h.fixed(replying.efficiency)} with a message back per task: the most a pool that reports each result as it is done can reach here towards the CPU-bound goal.`),
    ],
    columns: ['floor', 'figure', ...POOLS.map((p) => `${p} / floor`)],
    align: ['left', 'right', ...POOLS.map(() => 'right')],
    rows: floors.map((row) => [
      row.label,
      `**${figure(row, row.value)}**${row.efficiency === undefined ? '' : ` (${h.fixed(row.efficiency)} of ${THREADS} × one thread)`}`,
      ...POOLS.map((p) => h.times(row.vs[p].paired)),
    ]),
    chart: {
      kind: 'ratio',
      caption: 'baton and piscina over each floor: CPU-bound higher is better (1.0x is the ceiling); latency and memory lower is better',
      bars: floors.flatMap((row) =>
        ['baton', 'piscina'].map((p) => ({ label: `${p}, ${row.short}`, value: row.vs[p].paired, spread: row.vs[p].spread, target: null, better: row.better })),
      ),
    },
  }
  const workloadTable = [
    {
      id: 'pool-workloads',
      title: 'Worker pools, every workload: baton against piscina, tinypool and workerpool',
      notes,
      columns: ['workload', 'baton', ...PEERS, ...PEERS.map((p) => `baton / ${p}`), 'baton / best peer', 'goal', 'met'],
      align: ['left', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'left', 'center'],
      rows: rows.map((row) => [
        label(row),
        `**${figure(row, row.values.baton)}**`,
        ...PEERS.map((p) => figure(row, row.values[p])),
        ...PEERS.map((p) => h.times(row.vs[p].paired)),
        `**${h.times(row.vs.best.paired)}** (${h.span(row.vs.best.spread, h.times)})`,
        row.goals.map((goal) => `${goalText(row, goal)}${goal.against === 'ideal' ? ` (${h.fixed(goal.value)})` : ''}`).join('; '),
        row.goals.map((goal) => h.yes(goal.met)).join(', '),
      ]),
      chart: {
        kind: 'ratio',
        caption: "baton against its goal's measure: throughput higher is better; latency, memory and CPU lower is better",
        bars: goalRows.map(({ row, goal }) => ({
          label: `${row.short}, vs ${GOAL_NAMES[goal.against]}`,
          value: goal.value,
          spread: goal.spread,
          target: goal.ratio,
          better: row.better === 'higher' || goal.against === 'ideal' ? 'higher' : 'lower',
        })),
      },
    },
  ]
  return floors.length === 0 ? workloadTable : [...workloadTable, floorsTable]
}

main()
