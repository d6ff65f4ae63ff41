'use strict'

// The stacks the demo runs its scenario on. `baton` is baton throughout; each other
// stack swaps exactly one part of it for what apps use today, so that every id it loses
// is lost by that part:
//   node:async_hooks  Node's AsyncLocalStorage instead of baton's (tasks and pool: baton's)
//   napi-rs           the plain napi-rs AsyncTask and ThreadsafeFunction instead of baton's tasks
//   piscina           piscina instead of baton's WorkerPool
// A stack is { name, storage, storageKey, tasks, pool } (or { name, unavailable } when
// its package is missing); tasks and pools are described where they are made.

const baton = require('..')
const { plainAsyncTask, plainProgressTask } = require('../lib/shared/binding')
const { requestId, nodeRequestId } = require('./request-context')

const WORKER = require.resolve('./digest-worker')
// Progress reports per request on the plain path (baton's fibonacci reports as it goes).
const PLAIN_PROGRESS_STEPS = 4

// Native tasks: `withProgress(n, onProgress, callback)` reports progress from a Rust
// thread and calls back from the completion, `promise(n)` resolves; both give the same
// value, and `expected(ns)` is that value (as a decimal string) for every n, in plain JS.
const batonTasks = {
  withProgress: (n, onProgress, callback) => baton.fibonacci(n, { onProgress }, callback),
  promise: (n) => baton.fibonacci(n),
  expected(ns) {
    const wanted = new Set(ns)
    const out = new Map()
    let a = 0n
    let b = 1n
    for (let i = 0, max = Math.max(...ns); i <= max; i++) {
      if (wanted.has(i)) out.set(i, a.toString())
      ;[a, b] = [b, a + b]
    }
    return out
  },
}

// The plain path computes 17 whatever n is: only where its callbacks run matters here.
const plainTasks = {
  withProgress(n, onProgress, callback) {
    plainProgressTask(PLAIN_PROGRESS_STEPS, onProgress).then(() => plainAsyncTask(callback), callback)
  },
  promise: () => plainAsyncTask(),
  expected: (ns) => new Map(ns.map((n) => [n, '17'])),
}

// Pools: `create(threads)`, `run(pool, task)` (a Promise), `close(pool)`.
const batonPool = {
  create: (threads) => new baton.WorkerPool({ filename: WORKER, minThreads: threads, maxThreads: threads }),
  run: (pool, task) => pool.run(task),
  close: (pool) => pool.close(),
}

function piscinaPool() {
  let Piscina
  try {
    ;({ Piscina } = require('piscina'))
  } catch (error) {
    if (error?.code !== 'MODULE_NOT_FOUND') throw error
    return null
  }
  return {
    create: (threads) => new Piscina({ filename: WORKER, minThreads: threads, maxThreads: threads }),
    run: (pool, task) => pool.run(task),
    close: (pool) => pool.close(),
  }
}

const batonStorage = { storage: requestId, storageKey: 'baton' }
const nodeStorage = { storage: nodeRequestId, storageKey: 'node' }

/** The stacks to run: baton's alone, or (compare) baton's and the three others. */
function stacks(compare) {
  const list = [{ name: 'baton', ...batonStorage, tasks: batonTasks, pool: batonPool }]
  if (!compare) return list
  list.push({ name: 'node:async_hooks', ...nodeStorage, tasks: batonTasks, pool: batonPool })
  list.push({ name: 'napi-rs', ...batonStorage, tasks: plainTasks, pool: batonPool })
  const piscina = piscinaPool()
  list.push(piscina
    ? { name: 'piscina', ...batonStorage, tasks: batonTasks, pool: piscina }
    : { name: 'piscina', unavailable: 'piscina is not installed (npm install piscina to compare with it)' })
  return list
}

module.exports = { stacks }
