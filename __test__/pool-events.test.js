'use strict'

const test = require('ava')
const { Worker } = require('node:worker_threads')
const { WorkerPool } = require('..')
const { TASKS, nextEvent, runScript } = require('./pool-helpers')

test('workerCreate and workerExit carry the Worker; threads lists the live ones', async (t) => {
  const pool = new WorkerPool({ filename: TASKS, minThreads: 0, maxThreads: 2 })
  const created = []
  const exited = []
  pool.on('workerCreate', (worker) => created.push(worker))
  pool.on('workerExit', (worker, code) => exited.push({ worker, code }))
  t.is(pool.threads.length, 0)
  await Promise.all([pool.run({ value: 1, ms: 20 }, { name: 'delayed' }), pool.run({ value: 2, ms: 20 }, { name: 'delayed' })])
  t.is(created.length, 2)
  t.true(created.every((worker) => worker instanceof Worker))
  t.deepEqual(pool.threads, created)
  await t.throwsAsync(pool.run(9, { name: 'exit' }), { code: 'ERR_BATON_WORKER_EXITED' })
  t.is(exited.length, 1)
  t.is(exited[0].code, 9)
  t.true(created.includes(exited[0].worker))
  t.false(pool.threads.includes(exited[0].worker))
  await pool.close()
  t.is(exited.length, created.length)
  t.deepEqual(pool.threads, [])
})

test('needsDrain once as many tasks are out as the workers run at once, as piscina; drain when back under', async (t) => {
  const pool = new WorkerPool({ filename: TASKS, maxThreads: 1, concurrentTasksPerWorker: 2 })
  const order = []
  pool.on('needsDrain', () => order.push(['needsDrain', pool.needsDrain]))
  pool.on('drain', () => order.push(['drain', pool.needsDrain]))
  const tasks = [pool.run({ value: 1, ms: 5 }, { name: 'delayed' })]
  t.false(pool.needsDrain)
  // The starting worker's two slots are taken: the next task would wait.
  tasks.push(pool.run({ value: 2, ms: 5 }, { name: 'delayed' }))
  t.true(pool.needsDrain)
  t.is(pool.queueSize, 0)
  tasks.push(pool.run({ value: 3, ms: 5 }, { name: 'delayed' }), pool.run({ value: 4, ms: 5 }, { name: 'delayed' }))
  t.true(pool.needsDrain)
  t.is(pool.queueSize, 2)
  await Promise.all(tasks)
  t.false(pool.needsDrain)
  t.deepEqual(order, [
    ['needsDrain', true],
    ['drain', false],
  ])
  await pool.close()
})

test("'error': a worker that crashes with no task in flight is reported, then replaced", async (t) => {
  const pool = new WorkerPool({ filename: TASKS, maxThreads: 1 })
  // The task settles before its timer throws. An idle pool keeps no process alive: this
  // test's interval does, until the crash is heard.
  const keepAlive = setInterval(() => {}, 1000)
  const [[error]] = await Promise.all([nextEvent(pool, 'error'), pool.run(null, { name: 'throwLater' })])
  clearInterval(keepAlive)
  t.is(error.message, 'thrown after the task settled')
  t.is(await pool.run({ a: 1, b: 2 }, { name: 'add' }), 3)
  await pool.close()
})

test('completed, queueSize, utilization and the runTime/waitTime histograms', async (t) => {
  const pool = new WorkerPool({ filename: TASKS, maxThreads: 2 })
  t.is(pool.completed, 0)
  t.is(pool.utilization, 0)
  const tasks = Array.from({ length: 12 }, (_, i) => pool.run(i % 3 === 0 ? 15 : 5, { name: 'block' }))
  t.true(pool.queueSize > 0)
  await Promise.all(tasks)
  // Failures that came back from a worker count too; tasks that never ran do not.
  await t.throwsAsync(pool.run({ kind: 'Error', message: 'x' }, { name: 'throwError' }))
  await t.throwsAsync(pool.run(1, { name: 'block', signal: AbortSignal.abort() }), { name: 'AbortError' })
  t.is(pool.completed, 13)
  t.is(pool.queueSize, 0)
  const utilization = pool.utilization
  t.true(utilization > 0 && utilization <= 1, String(utilization))
  for (const histogram of [pool.runTime, pool.waitTime]) {
    t.is(histogram.constructor.name, 'RecordableHistogram')
    t.is(histogram.count, 13)
    for (const p of [50, 90, 99]) t.true(histogram.percentile(p) > 0)
    t.true(histogram.min > 0)
    t.true(histogram.max >= histogram.min)
  }
  // Nanoseconds: the 15 ms tasks ran for at least 15 ms.
  t.true(pool.runTime.max >= 15e6)
  await pool.close()
})

test("a listener's throw is an uncaught exception; the pool's bookkeeping is not cut short", async (t) => {
  const report = JSON.parse(await runScript('throwing-listeners.js'))
  t.deepEqual(report, {
    outcomes: ['ERR_BATON_WORKER_EXITED', 2, 4],
    after: 42,
    uncaught: ['from drain', 'from needsDrain', 'from workerCreate', 'from workerExit'],
  })
})
