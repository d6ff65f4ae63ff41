'use strict'

// How a worker finds its handlers: functions attached to an exported function, exports
// that are promises of handlers (initialised once), modules named per run, TypeScript.
const test = require('ava')
const { join } = require('node:path')
const { pathToFileURL } = require('node:url')
const { AsyncLocalStorage, WorkerPool } = require('..')
const { TASKS, fixtures } = require('./pool-helpers')

const fixture = (file) => join(fixtures, file)
const request = new AsyncLocalStorage({ name: 'request', cloneIntoWorkers: true })
const major = Number(process.versions.node.split('.')[0])

test('handlers attached to an exported function are found by name, and never on a prototype', async (t) => {
  const pool = new WorkerPool({ filename: fixture('function-properties.js'), maxThreads: 1 })
  t.is(await pool.run('x'), 'main x')
  t.is(await pool.run('x', { name: 'default' }), 'main x')
  t.is(await pool.run('loud', { name: 'shout' }), 'LOUD')
  // The module planted these on Object.prototype and Function.prototype.
  for (const name of ['fromObjectPrototype', 'fromFunctionPrototype', 'call', 'bind', 'toString']) {
    await t.throwsAsync(pool.run('x', { name }), { code: 'ERR_BATON_TASK_NOT_FOUND', message: new RegExp(`'${name}'`) })
  }
  await pool.close()
})

test('module.exports = a promise of the handler: awaited once per worker, before its first task', async (t) => {
  const pool = new WorkerPool({ filename: fixture('promised.js'), minThreads: 2, maxThreads: 2 })
  const results = await Promise.all(Array.from({ length: 20 }, (_, i) => pool.run(i)))
  t.deepEqual(
    results.map((r) => r.task),
    Array.from({ length: 20 }, (_, i) => i),
  )
  for (const { initialisations } of results) t.is(initialisations, 1)
  await pool.close()
})

test('module.exports = a promise of an object of named handlers', async (t) => {
  const pool = new WorkerPool({ filename: fixture('promised-named.js'), name: 'double', maxThreads: 1 })
  t.is(await pool.run(21), 42)
  t.is(await pool.run(5, { name: 'negate' }), -5)
  await t.throwsAsync(pool.run(5, { name: 'answer' }), { code: 'ERR_BATON_TASK_NOT_FOUND' })
  await t.throwsAsync(pool.run(5, { name: 'missing' }), { code: 'ERR_BATON_TASK_NOT_FOUND' })
  await pool.close()
})

test('ESM: export default a promise of the handler; named exports that are promises of handlers', async (t) => {
  const pool = new WorkerPool({ filename: pathToFileURL(fixture('promised.mjs')), maxThreads: 1 })
  t.is(await pool.run(41), 42)
  t.deepEqual(await Promise.all([pool.run(7, { name: 'square' }), pool.run(8, { name: 'square' })]), [49, 64])
  await t.throwsAsync(pool.run(1, { name: 'notAFunction' }), { code: 'ERR_BATON_TASK_NOT_FOUND', message: /'notAFunction'/ })
  const failing = await t.throwsAsync(pool.run(1, { name: 'failing' }), { code: 'ERR_BATON_WORKER_INIT' })
  t.is(failing.cause.message, 'square roots are not ready')
  // The worker and its other handlers are unharmed.
  t.is(await pool.run(1), 2)
  await pool.close()
})

test('a pool whose name is a promised export awaits it at load', async (t) => {
  const pool = new WorkerPool({ filename: fixture('promised.mjs'), name: 'square', maxThreads: 1 })
  t.is(await pool.run(9), 81)
  await pool.close()
})

test('a rejected module promise is the pool init error, as a failing import is', async (t) => {
  const pool = new WorkerPool({ filename: fixture('promised-rejects.js'), minThreads: 1, maxThreads: 1 })
  const error = await t.throwsAsync(pool.run(1), { code: 'ERR_BATON_WORKER_INIT' })
  t.is(error.cause.message, 'the model did not load')
  t.regex(error.message, /promised-rejects\.js: the model did not load/)
  await pool.close()
})

test('run({ filename }): several modules in one pool, each loaded once per worker, beside the pool one', async (t) => {
  const pool = new WorkerPool({ filename: TASKS, maxThreads: 1, concurrentTasksPerWorker: 4 })
  const counted = fixture('counted.mjs')
  // Four at once, before the module has loaded: it loads once all the same.
  const first = await Promise.all(Array.from({ length: 4 }, (_, i) => pool.run(i, { filename: counted, name: 'loads' })))
  const later = await pool.run('later', { filename: pathToFileURL(counted), name: 'loads' })
  for (const result of [...first, later]) t.is(result.loads, 1)
  t.is(new Set([...first, later].map((r) => r.threadId)).size, 1)
  t.is(await pool.run('shout', { filename: fixture('cjs-default.js') }), 'SHOUT')
  t.is(await pool.run(6, { filename: pathToFileURL(fixture('esm-named.mjs')).href, name: 'square' }), 36)
  t.is(await pool.run({ a: 1, b: 2 }, { name: 'add' }), 3)
  await pool.close()
})

test('run({ filename }): a handler from a module loaded for the task sees the stores it carried', async (t) => {
  const pool = new WorkerPool({ filename: fixture('cjs-default.js'), maxThreads: 1 })
  const seen = await request.run('first run', () => pool.run(null, { filename: TASKS, name: 'stores' }))
  t.is(seen.request, 'first run')
  t.is((await request.run('second run', () => pool.run(null, { filename: TASKS, name: 'stores' }))).request, 'second run')
  await pool.close()
})

test('run({ filename }): a module that fails to load or lacks the handler rejects that task only', async (t) => {
  const pool = new WorkerPool({ filename: TASKS, maxThreads: 1 })
  const thread = await pool.run(null, { name: 'threadId' })
  const broken = await t.throwsAsync(pool.run(1, { filename: fixture('syntax-error.js') }), { code: 'ERR_BATON_WORKER_INIT' })
  t.is(broken.cause.name, 'SyntaxError')
  t.regex(broken.message, /syntax-error\.js/)
  await t.throwsAsync(pool.run(1, { filename: fixture('promised-rejects.js') }), { code: 'ERR_BATON_WORKER_INIT', message: /the model did not load/ })
  await t.throwsAsync(pool.run(1, { filename: fixture('cjs-default.js'), name: 'nope' }), { code: 'ERR_BATON_TASK_NOT_FOUND', message: /cjs-default\.js/ })
  await t.throwsAsync(pool.run(1, { filename: fixture('no-function.js') }), { code: 'ERR_BATON_TASK_NOT_FOUND' })
  t.is(await pool.run(null, { name: 'threadId' }), thread)
  t.is(await pool.run({ a: 2, b: 2 }, { name: 'add' }), 4)
  await pool.close()
})

// Serial: the polluted prototype must not reach other tests running meanwhile.
test.serial('run({ filename }): checked as options.filename is, own property only', async (t) => {
  const pool = new WorkerPool({ filename: TASKS, maxThreads: 1 })
  // Called inside an async function: whether bad options throw or reject, the test sees a rejection.
  await t.throwsAsync(async () => pool.run(1, { filename: 42 }), { code: 'ERR_INVALID_ARG_TYPE', message: /"options\.filename"/ })
  await t.throwsAsync(async () => pool.run(1, { filename: fixture('nowhere.js') }), { code: 'ERR_MODULE_NOT_FOUND' })
  await t.throwsAsync(async () => pool.run(1, { filename: fixtures }), { code: 'ERR_MODULE_NOT_FOUND' })
  Object.prototype.filename = fixture('cjs-default.js')
  try {
    t.is(await pool.run({ a: 1, b: 1 }, { name: 'add' }), 2)
  } finally {
    delete Object.prototype.filename
  }
  await pool.close()
})

const loader = ['--import', pathToFileURL(fixture('ts-loader.mjs')).href]

test('TypeScript: a loader in execArgv (what --import tsx does) runs .ts and .mts workers on every line', async (t) => {
  const pool = new WorkerPool({ filename: fixture('typed.mts'), maxThreads: 1, execArgv: loader })
  t.is(await pool.run({ a: 20, b: 22 }), '42:undefined')
  // An enum: beyond type stripping, a loader transforms it.
  t.is(await pool.run(3, { filename: fixture('typed-enum.ts'), name: 'measure' }), '3m')
  await pool.close()
})

if (major >= 22) {
  test('TypeScript: Node 22.18+ strips types by default, for the pool module and per run', async (t) => {
    const pool = new WorkerPool({ filename: fixture('typed.mts'), maxThreads: 1 })
    t.is(await pool.run({ a: 1, b: 2 }), '3:undefined')
    const other = new WorkerPool({ filename: TASKS, maxThreads: 1 })
    t.is(await other.run({ a: 2, b: 2 }, { filename: fixture('typed.mts') }), '4:undefined')
    // Syntax that stripping cannot erase is Node's error.
    const error = await t.throwsAsync(other.run(1, { filename: fixture('typed-enum.ts'), name: 'measure' }), { code: 'ERR_BATON_WORKER_INIT' })
    t.is(error.cause.code, 'ERR_UNSUPPORTED_TYPESCRIPT_SYNTAX')
    await Promise.all([pool.close(), other.close()])
  })
}

test('TypeScript where Node strips no types: a typed error that says what to use instead', async (t) => {
  // Node 20 has no type stripping; 22.18+ without it is what --no-experimental-strip-types gives.
  const execArgv = major >= 22 ? ['--no-experimental-strip-types'] : []
  const pool = new WorkerPool({ filename: fixture('typed.mts'), minThreads: 0, maxThreads: 1, execArgv })
  const error = await t.throwsAsync(pool.run({ a: 1, b: 2 }), { code: 'ERR_BATON_WORKER_INIT' })
  t.is(error.cause.code, 'ERR_UNKNOWN_FILE_EXTENSION')
  t.regex(error.cause.message, /Unknown file extension "\.mts"/)
  t.regex(error.cause.message, /execArgv: \['--import', 'tsx'\]/)
  // Per run, in a pool of JavaScript modules: that task only.
  const js = new WorkerPool({ filename: TASKS, maxThreads: 1, execArgv })
  const perRun = await t.throwsAsync(js.run(1, { filename: fixture('typed.mts') }), { code: 'ERR_BATON_WORKER_INIT' })
  t.is(perRun.cause.code, 'ERR_UNKNOWN_FILE_EXTENSION')
  t.is(await js.run({ a: 1, b: 2 }, { name: 'add' }), 3)
  await Promise.all([pool.close(), js.close()])
})

test('a pool with no module of its own runs the modules its runs name, and refuses only the runs that name none', async (t) => {
  const pool = new WorkerPool({ minThreads: 1, maxThreads: 1 })
  t.teardown(() => pool.destroy())
  t.is(await pool.run('shout', { filename: fixture('cjs-default.js') }), 'SHOUT')
  await t.throwsAsync(pool.run('shout'), { code: 'ERR_MISSING_OPTION' })
  t.is(await pool.run(6, { filename: fixture('esm-named.mjs'), name: 'square' }), 36)
  // null is no filename, as for piscina.
  await t.throwsAsync(pool.run('shout', { filename: null }), { code: 'ERR_MISSING_OPTION' })
})
