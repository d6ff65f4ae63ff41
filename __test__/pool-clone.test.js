'use strict'

const test = require('ava')
const { AsyncLocalStorage, AsyncContext, WorkerPool } = require('..')
const { TASKS } = require('./pool-helpers')

// The same names as in fixtures/pool/tasks.js, which makes the worker's storages.
const request = new AsyncLocalStorage({ name: 'request', cloneIntoWorkers: true })
const tenant = new AsyncContext.Variable({ name: 'tenant', cloneIntoWorkers: true })
const withDefault = new AsyncLocalStorage({ name: 'withDefault', cloneIntoWorkers: true, defaultValue: 'main default' })
const unmarked = new AsyncLocalStorage({ name: 'unmarked' })

let pool
test.before(() => {
  pool = new WorkerPool({ filename: TASKS, maxThreads: 2, concurrentTasksPerWorker: 2 })
})
test.after.always(() => pool.close())

test('marked stores are structured-cloned into the handler; unmarked storages are absent there', async (t) => {
  const store = { id: 7, when: new Date(0), tags: new Set(['a']), nested: { list: [1, 2] } }
  const seen = await request.run(store, () =>
    tenant.run('acme', () => unmarked.run('not carried', () => withDefault.run('carried', () => pool.run(null, { name: 'stores' })))),
  )
  t.deepEqual(seen, { request: store, tenant: 'acme', withDefault: 'carried', unmarked: undefined, node: undefined })
  // Nothing carried: the worker's defaults.
  t.deepEqual(await pool.run(null, { name: 'stores' }), { request: undefined, tenant: 'no tenant', withDefault: 'worker default', unmarked: undefined, node: undefined })
})

test("a task never sees another task's stores, also when it starts where an async one finished", async (t) => {
  // One worker, one task at a time: B waits until A settles, and the worker takes B in
  // the continuation that finishes A.
  const single = new WorkerPool({ filename: TASKS, minThreads: 1, maxThreads: 1 })
  t.teardown(() => single.destroy())
  const a = request.run({ id: 'A' }, () => single.run({ value: 'A', ms: 20 }, { name: 'delayed' }))
  const b = single.run(null, { name: 'stores' })
  const c = tenant.run('only tenant', () => single.run(null, { name: 'stores' }))
  t.is(await a, 'A')
  t.deepEqual(await b, { request: undefined, tenant: 'no tenant', withDefault: 'worker default', unmarked: undefined, node: undefined })
  t.deepEqual(await c, { request: undefined, tenant: 'only tenant', withDefault: 'worker default', unmarked: undefined, node: undefined })
})

test('the clone is a copy: mutation in the worker is not seen on the main thread', async (t) => {
  const store = { list: ['main'] }
  const returned = await request.run(store, () => pool.run(null, { name: 'mutateStore' }))
  t.deepEqual(returned, { list: ['main', 'worker'], mutated: true })
  t.deepEqual(store, { list: ['main'] })
})

test('the clone stays in nested async code inside the handler, and each task has its own', async (t) => {
  const results = await Promise.all(
    Array.from({ length: 8 }, (_, i) => request.run({ i }, () => tenant.run(`t${i}`, () => pool.run(null, { name: 'nestedStores' })))),
  )
  results.forEach((result, i) => {
    for (const where of ['sync', 'afterAwait', 'inTimer', 'inImmediate']) {
      t.deepEqual(result[where].request, { i }, where)
      t.is(result[where].tenant, `t${i}`, where)
      t.is(result[where].unmarked, undefined, where)
    }
  })
})

test('exit() on the main thread: the worker sees its own default', async (t) => {
  const seen = await withDefault.run('outer', () => withDefault.exit(() => pool.run(null, { name: 'stores' })))
  t.is(seen.withDefault, 'worker default')
  // run(undefined) is a store: it is carried as undefined.
  const explicit = await withDefault.run(undefined, () => pool.run(null, { name: 'stores' }))
  t.is(explicit.withDefault, undefined)
})

test('a marked store that cannot be cloned rejects run() with ERR_BATON_STORE_NOT_CLONEABLE naming the storage', async (t) => {
  const error = await request.run({ callback() {} }, () => t.throwsAsync(pool.run(null, { name: 'stores' }), { code: 'ERR_BATON_STORE_NOT_CLONEABLE' }))
  t.regex(error.message, /'request'/)
  t.truthy(error.cause)
  const viaCallback = await tenant.run(Symbol('no'), () => new Promise((resolve) => pool.runTask(null, resolve)))
  t.is(viaCallback.code, 'ERR_BATON_STORE_NOT_CLONEABLE')
  t.regex(viaCallback.message, /'tenant'/)
  // The task's own value failing is the task's error, not the store's.
  const taskError = await request.run({ fine: true }, () => pool.run(() => {}, { name: 'echo' }).catch((e) => e))
  t.true(taskError instanceof DOMException)
  t.not(taskError.code, 'ERR_BATON_STORE_NOT_CLONEABLE')
  t.is(taskError.name, 'DataCloneError')
})

test('a marked storage needs a unique name', (t) => {
  t.throws(() => new AsyncLocalStorage({ cloneIntoWorkers: true }), { code: 'ERR_INVALID_ARG_VALUE' })
  t.throws(() => new AsyncContext.Variable({ cloneIntoWorkers: true }), { code: 'ERR_INVALID_ARG_VALUE' })
  t.throws(() => new AsyncLocalStorage({ name: 'request', cloneIntoWorkers: true }), { code: 'ERR_INVALID_ARG_VALUE' })
  t.throws(() => new AsyncContext.Variable({ name: 'tenant', cloneIntoWorkers: true }), { code: 'ERR_INVALID_ARG_VALUE' })
  // Unmarked storages may share names.
  t.notThrows(() => new AsyncLocalStorage({ name: 'request' }))
})
