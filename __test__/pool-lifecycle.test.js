'use strict'

const test = require('ava')
const { WorkerPool } = require('..')
const { TASKS, listen, runScript } = require('./pool-helpers')

const delayed = (pool, value, ms = 40) => pool.run({ value, ms }, { name: 'delayed' })
const outcome = (promise) => promise.then((value) => ({ value }), (error) => ({ code: error.code }))

let events
test.before(() => {
  events = listen()
})
test.after.always(() => events.close())

test('close() waits for running and queued tasks, then ends the workers', async (t) => {
  const pool = new WorkerPool({ filename: TASKS, maxThreads: 1 })
  const exits = []
  pool.on('workerExit', () => exits.push(1))
  const tasks = [1, 2, 3, 4].map((i) => delayed(pool, i))
  const closed = pool.close()
  t.is(pool.close(), closed)
  await t.throwsAsync(delayed(pool, 5), { code: 'ERR_BATON_POOL_CLOSED' })
  await closed
  t.deepEqual(await Promise.all(tasks), [1, 2, 3, 4])
  t.is(pool.threads.length, 0)
  t.is(exits.length, 1)
  t.is(pool.completed, 4)
})

test('close() on a closing pool keeps replacing crashed workers until the tasks are done', async (t) => {
  const pool = new WorkerPool({ filename: TASKS, maxThreads: 1 })
  const exiting = pool.run(5, { name: 'exit' })
  const queued = [delayed(pool, 'a', 1), delayed(pool, 'b', 1)]
  const closed = pool.close()
  t.is((await outcome(exiting)).code, 'ERR_BATON_WORKER_EXITED')
  t.deepEqual(await Promise.all(queued), ['a', 'b'])
  await closed
  t.is(pool.threads.length, 0)
})

test('close({ force: true }) rejects the queued tasks; the running ones finish', async (t) => {
  const pool = new WorkerPool({ filename: TASKS, maxThreads: 1 })
  const id = 'force-running'
  const running = pool.run(id, { name: 'gated' })
  await events.next((m) => m.started === id)
  const queued = [outcome(delayed(pool, 'q1')), outcome(delayed(pool, 'q2'))]
  const viaCallback = new Promise((resolve) => pool.runTask({ a: 1, b: 2 }, resolve))
  const closed = pool.close({ force: true })
  for (const task of queued) t.deepEqual(await task, { code: 'ERR_BATON_POOL_CLOSED' })
  t.is((await viaCallback).code, 'ERR_BATON_POOL_CLOSED')
  // The running task finishes, then the pool closes.
  events.release(id)
  t.is(await running, id)
  await closed
  t.deepEqual(pool.threads, [])
})

test('close({ force: true }) on a fresh pool: the tasks its starting workers have room for run, only the rest are rejected', async (t) => {
  const pool = new WorkerPool({ filename: TASKS, minThreads: 1, maxThreads: 2, concurrentTasksPerWorker: 2 })
  // Two slots on the worker starting with the pool, two on the one started for them; then the queue.
  const tasks = Array.from({ length: 6 }, (_, i) => outcome(delayed(pool, i, 5)))
  t.is(pool.queueSize, 2)
  await pool.close({ force: true })
  t.deepEqual(await Promise.all(tasks), [{ value: 0 }, { value: 1 }, { value: 2 }, { value: 3 }, { code: 'ERR_BATON_POOL_CLOSED' }, { code: 'ERR_BATON_POOL_CLOSED' }])
})

test('close() then close({ force: true }): the queued tasks are rejected', async (t) => {
  const pool = new WorkerPool({ filename: TASKS, maxThreads: 1 })
  const id = 'force-later'
  const running = pool.run(id, { name: 'gated' })
  await events.next((m) => m.started === id)
  const queued = outcome(delayed(pool, 'q'))
  const closed = pool.close()
  t.is(pool.close({ force: true }), closed)
  t.deepEqual(await queued, { code: 'ERR_BATON_POOL_CLOSED' })
  events.release(id)
  t.is(await running, id)
  await closed
})

test('destroy() rejects queued and running tasks with ERR_BATON_POOL_CLOSED', async (t) => {
  const pool = new WorkerPool({ filename: TASKS, maxThreads: 1, concurrentTasksPerWorker: 2 })
  const id = 'destroyed-running'
  const running = [outcome(pool.run(id, { name: 'ignoreAbort' })), outcome(delayed(pool, 'r', 5000))]
  await events.next((m) => m.started === id)
  const queued = outcome(delayed(pool, 'q'))
  await pool.destroy()
  for (const task of [...running, queued]) t.deepEqual(await task, { code: 'ERR_BATON_POOL_CLOSED' })
  t.is(pool.threads.length, 0)
  await t.throwsAsync(delayed(pool, 'after'), { code: 'ERR_BATON_POOL_CLOSED' })
})

test('destroy() also rejects tasks that were handed to a worker that never took them', async (t) => {
  const pool = new WorkerPool({ filename: TASKS, maxThreads: 1, concurrentTasksPerWorker: 2 })
  const id = 'destroyed-spinning'
  const spinning = outcome(pool.run(id, { name: 'spin' }))
  await events.next((m) => m.started === id)
  // The worker's thread spins: this task sits in its inbox.
  const handed = outcome(pool.run({ a: 1, b: 2 }, { name: 'add' }))
  t.is(pool.queueSize, 0)
  await pool.destroy()
  t.deepEqual(await spinning, { code: 'ERR_BATON_POOL_CLOSED' })
  t.deepEqual(await handed, { code: 'ERR_BATON_POOL_CLOSED' })
})

test('run and runTask after close fail with ERR_BATON_POOL_CLOSED, the callback asynchronously', async (t) => {
  const pool = new WorkerPool({ filename: TASKS, maxThreads: 1 })
  await pool.close()
  const error = await t.throwsAsync(pool.run({ a: 1, b: 1 }, { name: 'add' }), { code: 'ERR_BATON_POOL_CLOSED' })
  t.true(error instanceof Error)
  let sync = true
  const viaCallback = await new Promise((resolve) => {
    pool.runTask({ a: 1, b: 1 }, (err, value) => resolve({ err, value, sync, args: arguments.length }))
    sync = false
  })
  t.false(viaCallback.sync)
  t.is(viaCallback.err.code, 'ERR_BATON_POOL_CLOSED')
})

test('Symbol.asyncDispose closes the pool after its tasks; `await using` where the syntax exists', async (t) => {
  const pool = new WorkerPool({ filename: TASKS, maxThreads: 1 })
  const task = delayed(pool, 'disposed')
  await pool[Symbol.asyncDispose]()
  t.is(await task, 'disposed')
  t.is(pool.threads.length, 0)
  await t.throwsAsync(delayed(pool, 'later'), { code: 'ERR_BATON_POOL_CLOSED' })

  let usingBlock
  try {
    usingBlock = new Function('WorkerPool', 'TASKS', `return (async () => {
      let kept
      {
        await using pool = new WorkerPool({ filename: TASKS, maxThreads: 1 })
        kept = pool
        pool.run({ value: 1, ms: 20 }, { name: 'delayed' })
      }
      return kept
    })()`)
  } catch (error) {
    // Node 20-22 and 24 before explicit resource management: the method is all there is.
    t.true(error instanceof SyntaxError)
    return
  }
  const disposed = await usingBlock(WorkerPool, TASKS)
  t.is(disposed.threads.length, 0)
  t.is(disposed.completed, 1)
})

test('an idle pool does not keep the process alive', async (t) => {
  t.is(await runScript('idle-exit.js'), '42\n')
})

test('pending tasks keep the process alive until they settle', async (t) => {
  t.is(await runScript('pending-alive.js'), 'by callback\nby promise\n')
})
