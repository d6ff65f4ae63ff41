'use strict'

const test = require('ava')
const { join } = require('node:path')
const { pathToFileURL } = require('node:url')
const { WorkerPool } = require('..')
const { TASKS, fixtures, listen } = require('./pool-helpers')

const typeStripping = Boolean(process.features.typescript) || Number(process.versions.node.split('.')[0]) >= 22

test('new WorkerPool(numThreads) runs the default a+b task, by callback and by Promise', async (t) => {
  const pool = new WorkerPool(2)
  t.is(pool.threads.length, 2)
  const viaCallback = await new Promise((resolve, reject) => pool.runTask({ a: 2, b: 3 }, (err, value) => (err ? reject(err) : resolve(value))))
  t.is(viaCallback, 5)
  t.is(await pool.run({ a: 40, b: 2 }), 42)
  await pool.close()
})

test('a pool without a filename (options, none or null) runs no built-in task: its workers start, its runs reject with ERR_MISSING_OPTION', async (t) => {
  for (const make of [() => new WorkerPool({ minThreads: 1, maxThreads: 1 }), () => new WorkerPool(), () => new WorkerPool({ filename: null, minThreads: 1 })]) {
    const pool = make()
    const error = await t.throwsAsync(pool.run({ a: 1, b: 2 }), { instanceOf: TypeError, code: 'ERR_MISSING_OPTION' })
    t.regex(error.message, /^options\.filename is required/)
    const viaCallback = await new Promise((resolve) => pool.runTask({ a: 1, b: 2 }, resolve))
    t.is(viaCallback.code, 'ERR_MISSING_OPTION')
    t.is(pool.queueSize, 0)
    t.is(pool.completed, 0)
    t.true(pool.threads.length >= 1)
    // Its workers started and stay up: nothing failed to load.
    const [worker] = pool.threads
    let exited = false
    worker.once('exit', () => (exited = true))
    await new Promise((resolve) => setTimeout(resolve, 100))
    t.false(exited)
    await pool.close()
  }
  t.throws(() => new WorkerPool({ filename: 1 }), { code: 'ERR_INVALID_ARG_TYPE', message: /of type string or an instance of URL, or null/ })
})

test('new WorkerPool(filename | URL | options), CJS and ESM, default and named exports', async (t) => {
  const byPath = new WorkerPool(join(fixtures, 'cjs-default.js'))
  t.is(await byPath.run('shout'), 'SHOUT')
  const byUrl = new WorkerPool(pathToFileURL(join(fixtures, 'esm.mjs')))
  t.is(await byUrl.run({ a: 6, b: 7 }), 42)
  t.is(await byUrl.run('you', { name: 'greet' }), 'hello you')
  const byUrlString = new WorkerPool({ filename: pathToFileURL(join(fixtures, 'esm-named.mjs')).href, name: 'square', maxThreads: 1 })
  t.is(await byUrlString.run(9), 81)
  const named = new WorkerPool({ filename: TASKS, maxThreads: 1 })
  t.is(await named.run({ a: 1, b: 2 }, { name: 'add' }), 3)
  t.deepEqual(await named.run({ x: [1, new Map([[1, 2]])] }, { name: 'echo' }), { x: [1, new Map([[1, 2]])] })
  await Promise.all([byPath.close(), byUrl.close(), byUrlString.close(), named.close()])
})

test('workerData, env, argv and resourceLimits reach the worker', async (t) => {
  const pool = new WorkerPool({
    filename: TASKS,
    maxThreads: 1,
    workerData: { config: [1, 2, 3] },
    env: { BATON_POOL_TEST: 'from env' },
    argv: ['a', 'b c'],
    resourceLimits: { maxOldGenerationSizeMb: 48 },
  })
  t.deepEqual(await pool.run(null, { name: 'workerData' }), { config: [1, 2, 3] })
  t.deepEqual(await pool.run(null, { name: 'argv' }), ['a', 'b c'])
  t.deepEqual([...pool.options.argv], ['a', 'b c'])
  t.is(await pool.run('BATON_POOL_TEST', { name: 'env' }), 'from env')
  t.is((await pool.run(null, { name: 'resourceLimits' })).maxOldGenerationSizeMb, 48)
  await pool.close()
})

test('execArgv: --import of a preload module runs before the task module', async (t) => {
  const pool = new WorkerPool({ filename: TASKS, maxThreads: 1, execArgv: ['--import', pathToFileURL(join(fixtures, 'preload.mjs')).href] })
  t.is(await pool.run(null, { name: 'preloaded' }), 'preloaded')
  await pool.close()
})

if (typeStripping) {
  test('execArgv: a TypeScript worker module with type stripping', async (t) => {
    const pool = new WorkerPool({
      filename: join(fixtures, 'typed.mts'),
      maxThreads: 1,
      execArgv: ['--experimental-strip-types', '--disable-warning=ExperimentalWarning', '--import', pathToFileURL(join(fixtures, 'preload.mjs')).href],
    })
    t.is(await pool.run({ a: 20, b: 22 }), '42:string')
    await pool.close()
  })
}

test('maxQueue: tasks beyond it fail with ERR_BATON_QUEUE_FULL; "auto" is maxThreads squared', async (t) => {
  const events = listen()
  t.teardown(events.close)
  for (const [maxThreads, maxQueue, queueSize] of [
    [1, 2, 2],
    [2, 'auto', 4],
  ]) {
    const pool = new WorkerPool({ filename: TASKS, minThreads: maxThreads, maxThreads, maxQueue })
    // Every worker busy until released: what follows waits in the queue.
    const gates = Array.from({ length: maxThreads }, (_, i) => `${maxQueue}-gate-${i}`)
    const gated = gates.map((id) => pool.run(id, { name: 'gated' }))
    await Promise.all(gates.map((id) => events.next((m) => m.started === id)))
    const accepted = Array.from({ length: queueSize }, (_, i) => pool.run({ a: i, b: 0 }, { name: 'add' }))
    t.is(pool.queueSize, queueSize)
    const refused = await t.throwsAsync(pool.run({ a: 0, b: 0 }, { name: 'add' }), { code: 'ERR_BATON_QUEUE_FULL' })
    t.regex(refused.message, new RegExp(`maxQueue: ${queueSize}`))
    const viaCallback = await new Promise((resolve) => pool.runTask({ a: 0, b: 0 }, resolve))
    t.is(viaCallback.code, 'ERR_BATON_QUEUE_FULL')
    for (const id of gates) events.release(id)
    t.deepEqual(await Promise.all(gated), gates)
    t.deepEqual(await Promise.all(accepted), Array.from({ length: queueSize }, (_, i) => i))
    await pool.close()
  }
})

test('maxQueue 0: a task that a starting worker has room for is not queued; beyond every worker\'s room, refused', async (t) => {
  for (const minThreads of [0, 1]) {
    // A fresh pool: its worker is starting (or, with minThreads 0, started for this task).
    const pool = new WorkerPool({ filename: TASKS, minThreads, maxThreads: 1, maxQueue: 0 })
    const first = pool.run({ value: 'first', ms: 20 }, { name: 'delayed' })
    t.is(pool.queueSize, 0)
    t.is(pool.threads.length, 1)
    await t.throwsAsync(pool.run({ a: 1, b: 1 }, { name: 'add' }), { code: 'ERR_BATON_QUEUE_FULL' })
    t.is(await first, 'first')
    t.is(await pool.run({ a: 1, b: 2 }, { name: 'add' }), 3)
    t.is(pool.threads.length, 1)
    await pool.close()
  }
  // Two workers to start, one task each; the third has no room anywhere.
  const pool = new WorkerPool({ filename: TASKS, minThreads: 0, maxThreads: 2, maxQueue: 0, concurrentTasksPerWorker: 1 })
  const taken = [pool.run({ value: 1, ms: 20 }, { name: 'delayed' }), pool.run({ value: 2, ms: 20 }, { name: 'delayed' })]
  t.is(pool.threads.length, 2)
  await t.throwsAsync(pool.run({ a: 1, b: 1 }, { name: 'add' }), { code: 'ERR_BATON_QUEUE_FULL' })
  t.deepEqual(await Promise.all(taken), [1, 2])
  await pool.close()
})

test('queueSize counts only tasks no worker has room for, starting workers included', async (t) => {
  const pool = new WorkerPool({ filename: TASKS, minThreads: 1, maxThreads: 3, maxQueue: 1 })
  // One task for each of the three workers (two of them started for it), one queued.
  const accepted = Array.from({ length: 4 }, (_, i) => pool.run({ value: i, ms: 20 }, { name: 'delayed' }))
  t.is(pool.threads.length, 3)
  t.is(pool.queueSize, 1)
  await t.throwsAsync(pool.run({ a: 1, b: 1 }, { name: 'add' }), { code: 'ERR_BATON_QUEUE_FULL' })
  t.deepEqual(await Promise.all(accepted), [0, 1, 2, 3])
  t.is(pool.queueSize, 0)
  await pool.close()
})

test('minThreads, maxThreads, and shrinking back to minThreads after idleTimeout', async (t) => {
  const pool = new WorkerPool({ filename: TASKS, minThreads: 1, maxThreads: 3, idleTimeout: 50 })
  t.is(pool.threads.length, 1)
  const exits = []
  pool.on('workerExit', (worker) => exits.push(worker))
  await Promise.all(Array.from({ length: 6 }, () => pool.run(60, { name: 'block' }).then(() => pool.run(null, { name: 'threadId' }))))
  t.true(pool.threads.length <= 3)
  t.is(pool.threads.length, 3)
  // An idle pool keeps no process alive (its idle timer included): this test does, while it waits.
  const keepAlive = setInterval(() => {}, 1000)
  while (pool.threads.length > 1) await new Promise((resolve) => pool.once('workerExit', resolve))
  clearInterval(keepAlive)
  t.is(exits.length, 2)
  t.is(pool.threads.length, 1)
  t.is(await pool.run({ a: 1, b: 1 }, { name: 'add' }), 2)
  await pool.close()
})

test('concurrentTasksPerWorker: one worker runs several async tasks at once', async (t) => {
  const pool = new WorkerPool({ filename: TASKS, maxThreads: 1, concurrentTasksPerWorker: 4 })
  const threads = new Set()
  const results = await Promise.all(
    Array.from({ length: 4 }, (_, i) =>
      pool.run({ value: i, ms: 30 }, { name: 'delayed' }).then(async (value) => {
        threads.add(await pool.run(null, { name: 'threadId' }))
        return value
      }),
    ),
  )
  t.deepEqual(results, [0, 1, 2, 3])
  t.is(threads.size, 1)
  // The ready worker takes all four at once: none waits in the queue.
  const again = Array.from({ length: 4 }, (_, i) => pool.run({ value: i, ms: 30 }, { name: 'delayed' }))
  t.is(pool.queueSize, 0)
  await Promise.all(again)
  await pool.close()
})

test('wrong option and argument types fail with Node codes: the constructor throws, run() rejects', async (t) => {
  t.throws(() => new WorkerPool(0), { code: 'ERR_OUT_OF_RANGE' })
  t.throws(() => new WorkerPool(1.5), { code: 'ERR_OUT_OF_RANGE' })
  t.throws(() => new WorkerPool(null), { code: 'ERR_INVALID_ARG_TYPE' })
  t.throws(() => new WorkerPool(true), { code: 'ERR_INVALID_ARG_TYPE' })
  t.throws(() => new WorkerPool({ filename: 42 }), { code: 'ERR_INVALID_ARG_TYPE' })
  t.throws(() => new WorkerPool({ maxThreads: '2' }), { code: 'ERR_INVALID_ARG_TYPE' })
  t.throws(() => new WorkerPool({ maxThreads: 0 }), { code: 'ERR_OUT_OF_RANGE' })
  t.throws(() => new WorkerPool({ minThreads: 3, maxThreads: 2 }), { code: 'ERR_OUT_OF_RANGE' })
  t.throws(() => new WorkerPool({ idleTimeout: -1 }), { code: 'ERR_OUT_OF_RANGE' })
  t.throws(() => new WorkerPool({ idleTimeout: '1' }), { code: 'ERR_INVALID_ARG_TYPE' })
  t.throws(() => new WorkerPool({ maxQueue: 'many' }), { code: 'ERR_INVALID_ARG_TYPE' })
  t.throws(() => new WorkerPool({ maxQueue: -1 }), { code: 'ERR_OUT_OF_RANGE' })
  t.throws(() => new WorkerPool({ concurrentTasksPerWorker: 0 }), { code: 'ERR_OUT_OF_RANGE' })
  t.throws(() => new WorkerPool({ abortGracePeriod: NaN }), { code: 'ERR_OUT_OF_RANGE' })
  t.throws(() => new WorkerPool({ name: 1 }), { code: 'ERR_INVALID_ARG_TYPE' })
  t.throws(() => new WorkerPool({ resourceLimits: 1 }), { code: 'ERR_INVALID_ARG_TYPE' })
  t.throws(() => new WorkerPool({ env: 'x' }), { code: 'ERR_INVALID_ARG_TYPE' })
  t.throws(() => new WorkerPool({ execArgv: '--import' }), { code: 'ERR_INVALID_ARG_TYPE' })
  t.throws(() => new WorkerPool({ execArgv: [1] }), { code: 'ERR_INVALID_ARG_TYPE' })
  t.throws(() => new WorkerPool({ argv: 'a' }), { code: 'ERR_INVALID_ARG_TYPE' })
  t.throws(() => new WorkerPool({ argv: [1] }), { code: 'ERR_INVALID_ARG_TYPE', message: /"options\.argv\[0\]"/ })

  const pool = new WorkerPool({ filename: TASKS, minThreads: 0, maxThreads: 1 })
  await t.throwsAsync(pool.run(1, null), { code: 'ERR_INVALID_ARG_TYPE' })
  await t.throwsAsync(pool.run(1, { name: 1 }), { code: 'ERR_INVALID_ARG_TYPE' })
  await t.throwsAsync(pool.run(1, { signal: {} }), { code: 'ERR_INVALID_ARG_TYPE' })
  await t.throwsAsync(pool.run(1, { transferList: [{}] }), { code: 'ERR_INVALID_ARG_TYPE' })
  t.throws(() => pool.runTask(1), { code: 'ERR_INVALID_ARG_TYPE' })
  t.throws(() => pool.runTask(1, 'cb'), { code: 'ERR_INVALID_ARG_TYPE' })
  t.is(pool.queueSize, 0)
  pool.destroy()
})

test('options that Worker refuses: at construction, or as ERR_BATON_WORKER_INIT for tasks when no worker starts with the pool', async (t) => {
  const execArgv = ['--no-such-flag-for-baton']
  t.throws(() => new WorkerPool({ filename: TASKS, minThreads: 1, execArgv }), { code: 'ERR_WORKER_INVALID_EXEC_ARGV' })
  const lazy = new WorkerPool({ filename: TASKS, minThreads: 0, maxThreads: 1, execArgv })
  const error = await t.throwsAsync(lazy.run({ a: 1, b: 2 }, { name: 'add' }), { code: 'ERR_BATON_WORKER_INIT' })
  t.is(error.cause.code, 'ERR_WORKER_INVALID_EXEC_ARGV')
  const viaCallback = await new Promise((resolve) => lazy.runTask({ a: 1, b: 2 }, resolve))
  t.is(viaCallback.code, 'ERR_BATON_WORKER_INIT')
  t.is(lazy.queueSize, 0)
  await lazy.close()
})

test('transferList: the buffer moves to the worker and is detached here', async (t) => {
  const pool = new WorkerPool({ filename: TASKS, maxThreads: 1 })
  const bytes = new Uint8Array([1, 2, 3])
  const echoed = await pool.run(bytes, { name: 'echo', transferList: [bytes.buffer] })
  t.deepEqual([...echoed], [1, 2, 3])
  t.is(bytes.byteLength, 0)
  await pool.close()
  // A task refused (the pool is closed, the queue is full) leaves its buffers alone.
  const kept = new Uint8Array([4])
  await t.throwsAsync(pool.run(kept, { name: 'echo', transferList: [kept.buffer] }), { code: 'ERR_BATON_POOL_CLOSED' })
  const full = new WorkerPool({ filename: TASKS, minThreads: 0, maxThreads: 1, maxQueue: 0 })
  const occupying = full.run({ value: 'busy', ms: 20 }, { name: 'delayed' })
  await t.throwsAsync(full.run(kept, { name: 'echo', transferList: [kept] }), { code: 'ERR_BATON_QUEUE_FULL' })
  t.is(kept.byteLength, 1)
  t.is(await occupying, 'busy')
  await full.close()
})
