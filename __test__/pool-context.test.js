'use strict'

const test = require('ava')
const { AsyncLocalStorage: NodeAsyncLocalStorage, createHook } = require('node:async_hooks')
const { setImmediate: tick } = require('node:timers/promises')
const { AsyncLocalStorage, WorkerPool, resources } = require('..')
const { TASKS, runScript } = require('./pool-helpers')

const baton = new AsyncLocalStorage()
const node = new NodeAsyncLocalStorage()

const inBoth = (store, fn) => node.run(store, () => baton.run(store, fn))
const seen = () => ({ node: node.getStore(), baton: baton.getStore() })
const poolTasks = (pool) => resources().filter((r) => r.type === 'baton.WorkerPoolTask' && r.triggerAsyncId === pool.asyncId)

test('runTask callbacks see the submitter store, for baton and Node storages', async (t) => {
  const pool = new WorkerPool({ filename: TASKS, name: 'delayed', maxThreads: 2, concurrentTasksPerWorker: 3 })
  const outcomes = await Promise.all(
    Array.from({ length: 40 }, (_, i) =>
      new Promise((resolve) =>
        inBoth(`submitter ${i}`, () =>
          pool.runTask({ value: i, ms: (i * 7) % 5 }, (err, value) => resolve({ i, err, value, ...seen() })),
        ),
      ),
    ),
  )
  for (const { i, err, value, node: n, baton: b } of outcomes) {
    t.is(err, null)
    t.is(value, i)
    t.is(n, `submitter ${i}`)
    t.is(b, `submitter ${i}`)
  }
  // Errors too.
  const failed = await new Promise((resolve) => inBoth('failing', () => pool.runTask(null, (err) => resolve({ err, ...seen() }))))
  t.is(failed.err.name, 'TypeError')
  t.is(failed.node, 'failing')
  t.is(failed.baton, 'failing')
  await pool.close()
})

test('promise continuations see the submitter store, many submitters at once', async (t) => {
  const pool = new WorkerPool({ filename: TASKS, maxThreads: 2, concurrentTasksPerWorker: 2 })
  const results = await Promise.all(
    Array.from({ length: 40 }, (_, i) =>
      inBoth({ submitter: i }, async () => {
        const value = await pool.run({ value: i, ms: (i * 3) % 4 }, { name: 'delayed' })
        const after = seen()
        const error = await pool.run({ kind: 'Error', message: 'no' }, { name: 'throwError' }).catch((e) => e)
        return { value, after, afterError: seen(), error }
      }),
    ),
  )
  results.forEach(({ value, after, afterError, error }, i) => {
    t.is(value, i)
    t.deepEqual(after, { node: { submitter: i }, baton: { submitter: i } })
    t.deepEqual(afterError, { node: { submitter: i }, baton: { submitter: i } })
    t.is(error.message, 'no')
  })
  await pool.close()
})

test('each task is an AsyncResource "baton.WorkerPoolTask" triggered by the pool, listed until it settles', async (t) => {
  const pool = new WorkerPool({ filename: TASKS, maxThreads: 1 })
  const inits = []
  const hook = createHook({
    init(asyncId, type, triggerAsyncId) {
      if (type === 'baton.WorkerPoolTask') inits.push({ asyncId, triggerAsyncId })
    },
  }).enable()
  const pending = [pool.run({ value: 'a', ms: 50 }, { name: 'delayed' }), new Promise((resolve) => pool.runTask({ a: 1, b: 2 }, resolve))]
  hook.disable()
  t.is(inits.length, 2)
  for (const init of inits) t.is(init.triggerAsyncId, pool.asyncId)
  await tick()
  const listed = poolTasks(pool)
  t.deepEqual(listed.map((r) => r.id).sort(), inits.map((i) => i.asyncId).sort())
  await Promise.all(pending)
  await tick()
  t.deepEqual(poolTasks(pool), [])
  await pool.close()
})

test('a task the pool refuses is destroyed at once, listed nowhere, and fails in the submitter context', async (t) => {
  const pool = new WorkerPool({ filename: TASKS, maxThreads: 1 })
  const inits = new Set()
  const destroyed = new Set()
  // The hook sees the whole process, and stays on across awaits while this file's other
  // tests make tasks of their own: only this pool's count.
  const hook = createHook({
    init(asyncId, type, triggerAsyncId) {
      if (type === 'baton.WorkerPoolTask' && triggerAsyncId === pool.asyncId) inits.add(asyncId)
    },
    destroy(asyncId) {
      if (inits.has(asyncId)) destroyed.add(asyncId)
    },
  }).enable()
  // Refused three ways: an aborted signal, a value that cannot be cloned, a closed pool.
  const aborted = inBoth('aborted', () => pool.run({ a: 1, b: 1 }, { name: 'add', signal: AbortSignal.abort() }).catch((error) => ({ code: error.code, ...seen() })))
  const uncloneable = inBoth('uncloneable', () => pool.run({ f() {} }, { name: 'add' }).catch((error) => ({ name: error.name, ...seen() })))
  await pool.close()
  const closed = inBoth('closed', () => new Promise((resolve) => pool.runTask({ a: 1, b: 1 }, (err) => resolve({ code: err.code, ...seen() }))))
  t.deepEqual(await aborted, { code: 'ABORT_ERR', node: 'aborted', baton: 'aborted' })
  t.deepEqual(await uncloneable, { name: 'DataCloneError', node: 'uncloneable', baton: 'uncloneable' })
  t.deepEqual(await closed, { code: 'ERR_BATON_POOL_CLOSED', node: 'closed', baton: 'closed' })
  // destroy hooks run from Node's own immediate queue, after the refusals settled.
  await tick()
  await tick()
  hook.disable()
  t.is(inits.size, 3)
  t.deepEqual([...destroyed].sort(), [...inits].sort())
  t.deepEqual(poolTasks(pool), [])
})

test('a throwing runTask callback is an uncaught exception in the submitter context', async (t) => {
  const output = await runScript('throwing-callback.js')
  const lines = output.trim().split('\n').map((line) => JSON.parse(line))
  t.deepEqual(lines, [
    { uncaught: 'from the callback', store: 'thrower', baton: 'baton thrower' },
    { value: 3, store: 'after' },
  ])
})
