'use strict'

// How a worker loads a task module: CommonJS by require() (import() would start Node's
// ESM loader in every worker, which costs each worker memory), ESM by import(), each
// with what its own loader gives it; and baton's context code only once the thread has
// a baton storage.
const test = require('ava')
const { join } = require('node:path')
const { AsyncLocalStorage, WorkerPool } = require('..')
const { fixtures } = require('./pool-helpers')

const loading = (file) => join(fixtures, 'loading', file)

test('a CommonJS .js module is required: its top-level this, require and __filename, and handlers attached after the export', async (t) => {
  const filename = loading('commonjs.js')
  const pool = new WorkerPool({ filename, maxThreads: 1 })
  t.teardown(() => pool.destroy())
  t.deepEqual(await pool.run(1), { thisIsExports: true, filename, requireType: 'function', loadedBy: 'require', thisIsExportsNow: false })
  t.is(await pool.run('loud', { name: 'shout' }), 'LOUD')
  t.is(await pool.run(1, { name: 'late' }), 'late')
  await t.throwsAsync(pool.run(1, { name: 'missing' }), { code: 'ERR_BATON_TASK_NOT_FOUND' })
})

test('a .cjs module is required, in a CommonJS package and in a "type": "module" one, its promised export awaited', async (t) => {
  const pool = new WorkerPool({ filename: loading('commonjs.cjs'), name: 'loadedBy', maxThreads: 1 })
  t.teardown(() => pool.destroy())
  t.is(await pool.run(1), 'require')
  t.is(await pool.run(1, { filename: loading('esm-scope/commonjs.cjs') }), 'require')
})

test('a .js module in a "type": "module" package is an ES module: default and named exports', async (t) => {
  const pool = new WorkerPool({ filename: loading('esm-scope/tasks.js'), maxThreads: 1 })
  t.teardown(() => pool.destroy())
  t.is(await pool.run(21), 42)
  t.is(await pool.run(5, { name: 'square' }), 25)
  // Per run, from a pool of CommonJS modules.
  t.is(await pool.run(3, { filename: loading('commonjs.js'), name: 'late' }), 'late')
  t.is(await pool.run(3, { filename: loading('esm-scope/tasks.js'), name: 'square' }), 9)
})

test('ES module syntax in a .js of a package with no "type" loads as Node loads it: ESM, with top-level await evaluated once', async (t) => {
  const pool = new WorkerPool({ filename: loading('typeless/esm.js'), minThreads: 1, maxThreads: 1 })
  t.teardown(() => pool.destroy())
  t.is(await pool.run(1), 2)
  t.is(await pool.run(4, { name: 'twice' }), 8)
  // require() refuses a module with top-level await (ERR_REQUIRE_ASYNC_MODULE); import() loads the one it evaluated.
  t.is(await pool.run(2, { filename: loading('typeless/awaiting.js') }), 42)
  t.is(await pool.run(3, { filename: loading('typeless/awaiting.js') }), 43)
  // Counted by the module itself, in the only worker.
  t.is(await pool.run('awaiting', { filename: loading('counted.js') }), 1)
})

test('a CommonJS module whose require() of an ES module with top-level await fails runs once, and its tasks get that error', async (t) => {
  const pool = new WorkerPool({ minThreads: 1, maxThreads: 1 })
  t.teardown(() => pool.destroy())
  for (const file of ['typeless/requires-awaiting.js', 'requires-awaiting.cjs']) {
    const error = await t.throwsAsync(pool.run(1, { filename: loading(file) }), { code: 'ERR_BATON_WORKER_INIT' })
    t.is(error.cause.code, 'ERR_REQUIRE_ASYNC_MODULE')
    t.is(await pool.run(file.replace('typeless/', ''), { filename: loading('counted.js') }), 1, file)
  }
})

test('a task that carries no stores sees no store an earlier task entered, also when its module loaded baton only in a handler', async (t) => {
  const pool = new WorkerPool({ filename: loading('lazy-context.js'), maxThreads: 1 })
  t.teardown(() => pool.destroy())
  t.is(await pool.run('first', { name: 'enter' }), 'first')
  t.is(await pool.run(undefined, { name: 'read' }), 'nothing')
  t.is(await pool.run('second', { name: 'enter' }), 'second')
  t.is(await pool.run(undefined, { name: 'read' }), 'nothing')
})

test('a task that carries stores enters them in a worker whose module never loaded baton', async (t) => {
  const request = new AsyncLocalStorage({ name: 'loading-request', cloneIntoWorkers: true })
  const pool = new WorkerPool({ filename: loading('commonjs.js'), name: 'late', maxThreads: 1 })
  t.teardown(() => pool.destroy())
  t.is(await request.run({ id: 1 }, () => pool.run(1)), 'late')
  t.is(await pool.run(1), 'late')
})
