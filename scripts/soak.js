'use strict'

// `npm run soak`: a million operations (by default) through each of baton's paths,
// then proof that nothing stayed behind: baton's registry holds nothing of the path,
// the heap and RSS are back within the bounds below after garbage collection, and
// every callback ran exactly once, in its caller's context. Prints a table of figures
// per path and exits non-zero on any violation.
//
//   npm run soak                      a million operations per path
//   npm run soak -- --quick           20,000 per path (CI: well under a minute)
//   npm run soak -- --ops 200000      any other count (also BATON_SOAK_OPS)
//   npm run soak -- --only tasks,pool some paths (names as in the table)

const { spawnSync } = require('node:child_process')
const { setImmediate: tick } = require('node:timers/promises')
const { join } = require('node:path')
const { Worker } = require('node:worker_threads')

// Measuring "after garbage collection" needs a collection on demand.
if (typeof global.gc !== 'function') {
  const child = spawnSync(process.execPath, ['--expose-gc', __filename, ...process.argv.slice(2)], { stdio: 'inherit' })
  process.exit(child.status ?? 1)
}

const { AsyncLocalStorage, AsyncResource, WorkerPool, fibonacci, performAsyncTask, resources } = require('..')

const argv = process.argv.slice(2)
const option = (name) => {
  const at = argv.indexOf(name)
  return at === -1 ? undefined : argv[at + 1]
}
const quick = argv.includes('--quick') || process.env.BATON_SOAK === 'quick'
const OPS = Number(option('--ops') ?? process.env.BATON_SOAK_OPS ?? (quick ? 20_000 : 1_000_000))
const only = option('--only')?.split(',')

// What a path may leave behind, measured after collecting garbage. Each path runs in
// two halves: the first pays for what stays once (compiled code, grown tables, pages
// that V8 and malloc keep for reuse, worker and libuv thread stacks), so a leak shows
// as growth over the second half, bounded tightly; the whole run is bounded loosely.
const HALF_BOUND = { heap: 2 * 1024 * 1024, rss: 32 * 1024 * 1024 }
const TOTAL_BOUND = { heap: 8 * 1024 * 1024, rss: 128 * 1024 * 1024 }
// Operations in flight at once on the asynchronous paths.
const WINDOW = 512

const WORKER = join(__dirname, 'soak-worker.js')
const violations = []
const rows = []

function violation(path, message) {
  if (violations.length < 200) violations.push(`${path}: ${message}`)
}

/** Counts each operation's settlements: exactly one each is the property. */
function settlements(path, ops) {
  const counts = new Uint8Array(ops)
  return {
    settle(i) {
      if (counts[i] < 255) counts[i]++
    },
    check() {
      let missing = 0
      let twice = 0
      for (const count of counts) {
        if (count === 0) missing++
        else if (count > 1) twice++
      }
      if (missing > 0) violation(path, `${missing} of ${ops} operations never settled`)
      if (twice > 0) violation(path, `${twice} of ${ops} operations settled more than once`)
    },
  }
}

/** Runs `start(i, done)` for `from <= i < to`, at most WINDOW at a time; `done()` once per op. */
function windowed(from, to, start) {
  return new Promise((resolve) => {
    let next = from
    let inFlight = 0
    let finished = from
    const done = () => {
      inFlight--
      if (++finished === to) resolve()
      else pump()
    }
    const pump = () => {
      while (inFlight < WINDOW && next < to) {
        inFlight++
        start(next++, done)
      }
    }
    if (from === to) resolve()
    else pump()
  })
}

async function collectGarbage() {
  // FinalizationRegistry callbacks and destroy hooks run in later turns of the loop.
  for (let i = 0; i < 6; i++) {
    global.gc()
    await tick()
  }
}

// ---- The paths -------------------------------------------------------------------

/** run() with nested run(), enterWith() of a second storage inside, and some awaits. */
async function storages(from, to, settle) {
  const outer = new AsyncLocalStorage({ name: 'soak.outer' })
  const inner = new AsyncLocalStorage()
  const step = (i) => {
    settle(i)
    if (outer.getStore() !== i) violation('storages', `run(${i}) saw ${outer.getStore()}`)
    inner.enterWith(i)
    if (inner.getStore() !== i) violation('storages', `enterWith(${i}) saw ${inner.getStore()}`)
    outer.run(-i, () => {
      if (outer.getStore() !== -i || inner.getStore() !== i) violation('storages', `nested run(${-i}) saw ${outer.getStore()}/${inner.getStore()}`)
    })
  }
  for (let i = from; i < to; i++) {
    if (i % 1000 !== 999) {
      outer.run(i, step, i)
      continue
    }
    await outer.run(i, async () => {
      step(i)
      await tick()
      if (outer.getStore() !== i || inner.getStore() !== i) violation('storages', `after await in run(${i}): ${outer.getStore()}/${inner.getStore()}`)
    })
  }
}

/** AsyncResource made, entered and destroyed; every fourth left to the garbage collector. */
async function resourcesPath(from, to, settle) {
  const storage = new AsyncLocalStorage()
  for (let i = from; i < to; i++) {
    const resource = storage.run(i, () => new AsyncResource('soak.resource'))
    resource.runInAsyncScope(() => {
      settle(i)
      if (storage.getStore() !== i) violation('resources', `runInAsyncScope of resource ${i} saw ${storage.getStore()}`)
    })
    if (i % 4 !== 0) resource.emitDestroy()
    // Some outlive their job: those reach the native registry and leave it again.
    if (i % 1000 === 0) await tick()
  }
}

const FIB = [0n, 1n]
for (let i = 2; i <= 90; i++) FIB.push(FIB[i - 1] + FIB[i - 2])

/** fibonacci (small n) and performAsyncTask, callback and Promise forms, progress, signals. */
function tasks(from, to, settle) {
  const storage = new AsyncLocalStorage()
  const path = 'tasks'
  return windowed(from, to, (i, done) => {
    const n = i % 91
    const kind = i % 8
    let settled = false
    let lastFraction = 0
    const onProgress = (fraction) => {
      if (settled) violation(path, `op ${i}: progress after settlement`)
      if (storage.getStore() !== i) violation(path, `op ${i}: onProgress saw ${storage.getStore()}`)
      if (!(fraction >= lastFraction && fraction <= 1)) violation(path, `op ${i}: progress ${fraction} after ${lastFraction}`)
      lastFraction = fraction
    }
    const controller = new AbortController()
    const aborts = kind === 4 || kind === 5
    const finish = (error, value) => {
      settled = true
      settle(i)
      if (storage.getStore() !== i) violation(path, `op ${i}: settled in context ${storage.getStore()}`)
      const expected = kind >= 6 ? 17 : FIB[n]
      if (error) {
        // An abort may come after the task finished: then it resolves, which is fine.
        if (!(aborts && error.code === 'ABORT_ERR' && error.name === 'AbortError')) violation(path, `op ${i} (kind ${kind}): ${error.code} ${error.message}`)
      } else if (value !== expected) {
        violation(path, `op ${i} (kind ${kind}): ${value} instead of ${expected}`)
      }
      done()
    }
    const promised = (promise) => promise.then((value) => finish(null, value), finish)
    storage.run(i, () => {
      switch (kind) {
        case 0:
          return fibonacci(n, finish)
        case 1:
          return promised(fibonacci(n))
        case 2:
          return fibonacci(n, { onProgress }, finish)
        case 3:
          return promised(fibonacci(n, { onProgress, signal: controller.signal }))
        case 4:
          fibonacci(n, { onProgress, signal: controller.signal }, finish)
          return controller.abort()
        case 5:
          controller.abort()
          return promised(fibonacci(n, { signal: controller.signal }))
        case 6:
          return performAsyncTask(finish)
        default:
          return promised(performAsyncTask())
      }
    })
  })
}

/** WorkerPool tasks, run() and runTask(), with no storage marked (the fast path) or with one. */
function poolPath(marked) {
  const path = marked ? 'pool, marked store' : 'pool'
  // One marked storage for both halves: a name is marked once per thread while its storage lives.
  const request = marked ? new AsyncLocalStorage({ name: 'soak.request', cloneIntoWorkers: true }) : undefined
  return async (from, to, settle) => {
    const storage = new AsyncLocalStorage()
    const pool = new WorkerPool({ filename: WORKER, name: marked ? 'stored' : 'echo', minThreads: 2, maxThreads: 2 })
    try {
      await windowed(from, to, (i, done) => {
        const finish = (error, value) => {
          settle(i)
          if (storage.getStore() !== i) violation(path, `task ${i}: settled in context ${storage.getStore()}`)
          if (error) violation(path, `task ${i}: ${error.code} ${error.message}`)
          else if (value !== i) violation(path, `task ${i}: ${value}`)
          done()
        }
        const submit = () => {
          if (i % 2) pool.runTask(i, finish)
          else pool.run(i).then((value) => finish(null, value), finish)
        }
        storage.run(i, () => (marked ? request.run(i, submit) : submit()))
      })
    } finally {
      await pool.close()
    }
  }
}

/** worker_threads that load baton, use it, leave some of it alive, and end in three ways. */
async function threads(from, to, settle) {
  // A thread per 10,000 operations (at least 3, one per way to end), each op a resource.
  const count = Math.max(3, Math.ceil((to - from) / 10_000))
  const each = Math.ceil((to - from) / count)
  const ends = ['return', 'exit', 'terminate']
  const runOne = async (t) => {
    const first = from + t * each
    const ops = Math.min(each, to - first)
    const end = ends[t % 3]
    const worker = new Worker(WORKER, { workerData: { soak: ops, end } })
    const exited = new Promise((resolve) => worker.once('exit', resolve))
    worker.once('message', ({ ran }) => {
      if (ran !== ops) violation('threads', `worker ${t}: ${ran} of ${ops} resources saw their store`)
      for (let i = first; i < first + ran; i++) settle(i)
      if (end === 'terminate') worker.terminate()
    })
    worker.once('error', (error) => violation('threads', `worker ${t}: ${error.message}`))
    await exited
  }
  // Two at a time: the machine's cores, no more.
  for (let t = 0; t < count; t += 2) await Promise.all([runOne(t), t + 1 < count ? runOne(t + 1) : undefined])
}

const PATHS = [
  ['storages', storages],
  ['resources', resourcesPath],
  ['tasks', tasks],
  ['pool', poolPath(false)],
  ['pool, marked store', poolPath(true)],
  ['threads', threads],
]

// ---- Measuring ----------------------------------------------------------------------

const MB = 1024 * 1024
const mb = (bytes) => (bytes / MB).toFixed(1)

async function measure(name, run) {
  await collectGarbage()
  const before = process.memoryUsage()
  const registryBefore = resources().length
  const counted = settlements(name, OPS)
  const half = Math.floor(OPS / 2)
  let started = process.hrtime.bigint()
  await run(0, half, counted.settle)
  let ns = process.hrtime.bigint() - started
  await collectGarbage()
  const middle = process.memoryUsage()
  started = process.hrtime.bigint()
  await run(half, OPS, counted.settle)
  ns += process.hrtime.bigint() - started
  const seconds = Number(ns) / 1e9
  await collectGarbage()
  const after = process.memoryUsage()
  const left = resources().length - registryBefore
  counted.check()
  if (left !== 0) violation(name, `${left} registry entries left after the path (resources() should hold none of them)`)
  for (const [what, from, bounds] of [
    ['over the second half', middle, HALF_BOUND],
    ['over the whole path', before, TOTAL_BOUND],
  ]) {
    const heap = after.heapUsed - from.heapUsed
    const rss = after.rss - from.rss
    if (heap > bounds.heap) violation(name, `the heap grew by ${mb(heap)} MB ${what} (bound ${mb(bounds.heap)} MB, after GC)`)
    if (rss > bounds.rss) violation(name, `RSS grew by ${mb(rss)} MB ${what} (bound ${mb(bounds.rss)} MB, after GC)`)
  }
  rows.push([
    name,
    OPS.toLocaleString('en-US'),
    seconds.toFixed(2),
    Math.round(OPS / seconds).toLocaleString('en-US'),
    `${mb(before.heapUsed)} → ${mb(middle.heapUsed)} → ${mb(after.heapUsed)}`,
    `${mb(before.rss)} → ${mb(middle.rss)} → ${mb(after.rss)}`,
    String(left),
  ])
}

function printTable() {
  const header = ['path', 'ops', 's', 'ops/s', 'heap MB: before → half → after', 'RSS MB: before → half → after', 'registry left']
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((row) => row[c].length)))
  const line = (cells) => `| ${cells.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join(' | ')} |`
  console.log(line(header))
  console.log(`|${widths.map((w, c) => (c === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`)
  for (const row of rows) console.log(line(row))
}

async function main() {
  if (!Number.isSafeInteger(OPS) || OPS < 1) throw new Error(`--ops must be a positive integer, not ${OPS}`)
  console.log(
    `soak: ${OPS.toLocaleString('en-US')} operations per path, Node ${process.version}; growth bounds after GC: ` +
      `heap +${mb(HALF_BOUND.heap)} MB over the second half, +${mb(TOTAL_BOUND.heap)} MB in all; ` +
      `RSS +${mb(HALF_BOUND.rss)} MB, +${mb(TOTAL_BOUND.rss)} MB`,
  )
  const startRss = process.memoryUsage().rss
  for (const [name, run] of PATHS) {
    if (only !== undefined && !only.includes(name)) continue
    await measure(name, run)
  }
  printTable()
  const leftover = resources()
  if (leftover.length > 0) console.log(`registry at the end: ${leftover.length} entries, types ${[...new Set(leftover.map((entry) => entry.type))].join(', ')}`)
  console.log(`RSS: ${mb(startRss)} MB at start, ${mb(process.memoryUsage().rss)} MB at the end`)
  if (violations.length > 0) {
    console.error(`soak FAILED: ${violations.length}${violations.length === 200 ? '+' : ''} violations`)
    for (const v of violations) console.error(`  ${v}`)
    process.exitCode = 1
  } else {
    console.log('soak passed: every operation settled exactly once in its context, nothing left in the registry, memory within bounds')
  }
}

main().catch((error) => {
  console.error('soak crashed:', error)
  process.exitCode = 1
})
