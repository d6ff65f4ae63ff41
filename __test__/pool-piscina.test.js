'use strict'

// piscina's API that its users rely on, beside baton's own: the 'message' event, the
// options/maxThreads/minThreads/duration/idleThreads getters, the 'close' event and
// closeTimeout.
const test = require('ava')
const { once } = require('node:events')
const { availableParallelism } = require('node:os')
const { join } = require('node:path')
const { setTimeout: sleep } = require('node:timers/promises')
const { pathToFileURL } = require('node:url')
const { WorkerPool } = require('..')
const { TASKS, fixtures, listen } = require('./pool-helpers')

const MESSAGES = join(fixtures, 'messages.js')

let events
test.before(() => {
  events = listen()
})
test.after.always(() => events.close())

/** Resolves once `list` has `n` entries: the worker's port delivers apart from task results. */
async function collected(list, n) {
  // A bound against a hang, not a timing: messages arrive in milliseconds.
  for (let waited = 0; list.length < n && waited < 5000; waited += 5) await sleep(5)
  return list
}

test("'message': what a worker's code posts with parentPort, while loading too; none of baton's own messages", async (t) => {
  const pool = new WorkerPool({ filename: MESSAGES, name: 'post', minThreads: 1, maxThreads: 1 })
  const heard = []
  pool.on('message', (message) => heard.push(message))
  // baton's own message strings, posted by the task module, are the module's messages too.
  const posted = ['hello', { n: 1, nested: new Map([[1, 2]]) }, 'baton.ready', 'baton.exited-loading', null]
  t.is(await pool.run(posted), posted.length)
  t.deepEqual(await collected(heard, 1 + posted.length), [{ loading: true }, ...posted])
  await pool.close()
  t.is(heard.length, 1 + posted.length)
})

test("'message': a pool whose workers post nothing hears nothing, also when a worker exits while loading", async (t) => {
  const quiet = new WorkerPool({ filename: TASKS, minThreads: 1, maxThreads: 1 })
  const exiting = new WorkerPool({ filename: join(fixtures, 'exit-on-load.js'), minThreads: 0, maxThreads: 1 })
  const heard = []
  for (const pool of [quiet, exiting]) pool.on('message', (message) => heard.push(message))
  t.is(await quiet.run({ a: 1, b: 2 }, { name: 'add' }), 3)
  await t.throwsAsync(exiting.run(1), { code: 'ERR_BATON_WORKER_INIT' })
  await Promise.all([quiet.close(), exiting.close()])
  t.deepEqual(heard, [])
})

test('options: the options in use, filled in and frozen, the module as a path, as piscina shows them', async (t) => {
  const pool = new WorkerPool({ filename: pathToFileURL(TASKS), name: 'add', minThreads: 1, maxThreads: 2, maxQueue: 'auto', execArgv: ['--no-warnings'], env: { A: '1' }, workerData: { w: 1 } })
  const { options } = pool
  t.true(Object.isFrozen(options))
  t.is(Object.getPrototypeOf(options), null)
  t.like(options, {
    filename: TASKS,
    name: 'add',
    minThreads: 1,
    maxThreads: 2,
    maxQueue: 4,
    idleTimeout: 1000,
    concurrentTasksPerWorker: 1,
    abortGracePeriod: 1000,
    closeTimeout: 30_000,
    resourceLimits: undefined,
  })
  t.deepEqual([...options.execArgv], ['--no-warnings'])
  t.is(options.env.A, '1')
  t.deepEqual(options.workerData, { w: 1 })
  // What Worker gets cannot be changed through them.
  t.throws(() => {
    options.env.A = '2'
  }, { instanceOf: TypeError })
  t.is(await pool.run('A', { name: 'env' }), '1')
  t.is(pool.options, options)
  await pool.close()
  const bare = new WorkerPool()
  t.like(bare.options, { filename: null, name: null, maxQueue: Infinity, maxThreads: availableParallelism() })
  await bare.close()
})

test('maxThreads and minThreads: a minThreads above the default maxThreads raises it, as piscina; an explicit maxThreads below it throws', async (t) => {
  const many = availableParallelism() + 1
  const raised = new WorkerPool({ filename: TASKS, minThreads: many })
  t.is(raised.minThreads, many)
  t.is(raised.maxThreads, many)
  t.is(raised.threads.length, many)
  await raised.close()
  t.throws(() => new WorkerPool({ filename: TASKS, minThreads: 3, maxThreads: 2 }), { instanceOf: RangeError, code: 'ERR_OUT_OF_RANGE', message: /"options\.minThreads".*<= 2/ })
  // A maxThreads below the default minThreads lowers that instead.
  const lowered = new WorkerPool({ filename: TASKS, maxThreads: 1 })
  t.is(lowered.minThreads, 1)
  t.is(lowered.maxThreads, 1)
  await lowered.close()
})

test('duration: milliseconds since the pool was made', async (t) => {
  const before = performance.now()
  const pool = new WorkerPool({ filename: TASKS, minThreads: 0, maxThreads: 1 })
  const after = performance.now()
  await sleep(30)
  const measured = performance.now()
  const { duration } = pool
  t.true(duration >= measured - after && duration <= performance.now() - before, String(duration))
  await pool.close()
})

test('idleThreads: workers with no task, the ones still starting too, as piscina counts the workers it starts with', async (t) => {
  const pool = new WorkerPool({ filename: TASKS, minThreads: 2, maxThreads: 2 })
  t.is(pool.idleThreads, 2)
  const id = 'idle-threads-gate'
  const gated = pool.run(id, { name: 'gated' })
  // Taken by a starting worker: that one is not idle any more.
  t.is(pool.idleThreads, 1)
  await events.next((m) => m.started === id)
  t.is(pool.idleThreads, 1)
  events.release(id)
  t.is(await gated, id)
  t.is(pool.idleThreads, 2)
  await pool.close()
  t.is(pool.idleThreads, 0)
})

test("'close': once the pool has closed, by close() or destroy(), once", async (t) => {
  for (const end of ['close', 'destroy', 'both']) {
    const pool = new WorkerPool({ filename: TASKS, minThreads: 1, maxThreads: 1 })
    let closes = 0
    pool.on('close', () => {
      closes++
      t.is(pool.threads.length, 0)
    })
    const task = pool.run({ value: end, ms: 20 }, { name: 'delayed' }).catch((error) => error.code)
    if (end !== 'destroy') pool.close()
    if (end !== 'close') pool.destroy()
    await once(pool, 'close')
    t.is(await task, end === 'close' ? 'close' : 'ERR_BATON_POOL_CLOSED')
    await sleep(10)
    t.is(closes, 1)
  }
})

test('Symbol.dispose (`using`) starts close(): the running task finishes, then the pool closes', async (t) => {
  const pool = new WorkerPool({ filename: TASKS, minThreads: 1, maxThreads: 1 })
  const task = pool.run({ value: 'kept', ms: 20 }, { name: 'delayed' })
  const closed = once(pool, 'close')
  t.is(pool[Symbol.dispose](), undefined)
  await t.throwsAsync(pool.run({ a: 1, b: 1 }, { name: 'add' }), { code: 'ERR_BATON_POOL_CLOSED' })
  t.is(await task, 'kept')
  await closed
  t.is(pool.threads.length, 0)
})

test('closeTimeout: a close() that outlasts it ends as destroy() does, with an ERR_BATON_CLOSE_TIMEOUT error event, or rejection if none is heard', async (t) => {
  for (const heard of [true, false]) {
    const pool = new WorkerPool({ filename: TASKS, minThreads: 1, maxThreads: 1, closeTimeout: 50 })
    const order = []
    if (heard) pool.on('error', (error) => order.push(error.code))
    pool.on('close', () => order.push('close'))
    const id = `close-timeout-${heard}`
    const stuck = pool.run(id, { name: 'ignoreAbort' })
    const queued = pool.run({ a: 1, b: 1 }, { name: 'add' })
    await events.next((m) => m.started === id)
    const closing = pool.close()
    if (heard) await closing
    else await t.throwsAsync(closing, { code: 'ERR_BATON_CLOSE_TIMEOUT', message: /closeTimeout \(50 ms\)/ })
    await t.throwsAsync(stuck, { code: 'ERR_BATON_POOL_CLOSED' })
    await t.throwsAsync(queued, { code: 'ERR_BATON_POOL_CLOSED' })
    t.deepEqual(order, heard ? ['ERR_BATON_CLOSE_TIMEOUT', 'close'] : ['close'])
    t.is(pool.threads.length, 0)
  }
  // Within the timeout, close() waits as ever.
  const pool = new WorkerPool({ filename: TASKS, minThreads: 1, maxThreads: 1, closeTimeout: 10_000 })
  const task = pool.run({ value: 'in time', ms: 50 }, { name: 'delayed' })
  await pool.close()
  t.is(await task, 'in time')
})

test("'workerCreate' for the workers the constructor starts comes after it returns, as piscina: a listener added right after `new` hears each", async (t) => {
  const pool = new WorkerPool({ filename: TASKS, minThreads: 2, maxThreads: 3 })
  const created = []
  pool.on('workerCreate', (worker) => created.push(worker))
  t.deepEqual(created, [])
  await null
  t.deepEqual(created, pool.threads)
  // One started later is announced as it starts.
  const tasks = Array.from({ length: 3 }, (_, i) => pool.run({ value: i, ms: 20 }, { name: 'delayed' }))
  t.is(created.length, 3)
  t.deepEqual(await Promise.all(tasks), [0, 1, 2])
  await pool.close()
})
