'use strict'

const test = require('ava')
const { join } = require('node:path')
const { WorkerPool } = require('..')
const { TASKS, fixtures, listen } = require('./pool-helpers')

const run = (pool, name, task) => pool.run(task, { name })

let pool
test.before(() => {
  pool = new WorkerPool({ filename: TASKS, maxThreads: 2 })
})
test.after.always(() => pool.close())

test('a thrown built-in error keeps its class, message, stack, cause and own properties', async (t) => {
  for (const kind of ['Error', 'TypeError', 'RangeError', 'SyntaxError', 'ReferenceError', 'EvalError', 'URIError']) {
    const error = await t.throwsAsync(run(pool, 'throwError', { kind, message: `a ${kind}`, code: 'E_CODE', cause: { why: 1 } }))
    t.is(error.constructor, globalThis[kind])
    t.true(error instanceof globalThis[kind])
    t.is(error.name, kind)
    t.is(error.message, `a ${kind}`)
    t.is(error.code, 'E_CODE')
    t.deepEqual(error.cause, { why: 1 })
    t.regex(error.stack, new RegExp(`^${kind}: a ${kind}\\n\\s+at .*tasks\\.js`))
  }
  const aggregate = await t.throwsAsync(run(pool, 'throwError', { kind: 'aggregate', message: 'many' }))
  t.true(aggregate instanceof AggregateError)
  t.is(aggregate.message, 'many')
})

test('a custom error class arrives named after the class, with its own fields', async (t) => {
  const error = await t.throwsAsync(run(pool, 'throwError', { kind: 'custom', message: 'mine', code: 'E_MINE' }))
  t.true(error instanceof Error)
  t.is(error.name, 'CustomError')
  t.is(error.message, 'mine')
  t.is(error.code, 'E_MINE')
  t.deepEqual(error.detail, { deep: [1, 2] })
  t.regex(error.stack, /^CustomError: mine\n/)
  t.false('cause' in error)
  // A subclass that keeps the base name: named after its class, still a RangeError.
  const unnamed = await t.throwsAsync(run(pool, 'throwError', { kind: 'unnamed', message: 'sub' }))
  t.true(unnamed instanceof RangeError)
  t.is(unnamed.name, 'UnnamedCustom')
})

test('a cause chain of errors survives, by Promise and by callback', async (t) => {
  const error = await t.throwsAsync(run(pool, 'rejectWithCauseChain'))
  t.is(error.message, 'top')
  t.true(error.cause instanceof RangeError)
  t.is(error.cause.message, 'middle')
  t.true(error.cause.cause instanceof TypeError)
  t.is(error.cause.cause.code, 'ROOT')
  t.false(Object.keys(error).includes('cause'))
})

test('a thrown non-Error value arrives as that value', async (t) => {
  for (const value of ['a string', 42, null, undefined, { plain: true }, [1, 2]]) {
    const thrown = await run(pool, 'throwValue', value).then(
      () => t.fail('resolved'),
      (reason) => reason,
    )
    t.deepEqual(thrown, value)
  }
})

test('runTask: a falsy thrown value reaches the callback wrapped, as util.callbackify does; others as they are', async (t) => {
  const throwing = new WorkerPool({ filename: TASKS, name: 'throwValue', maxThreads: 1 })
  t.teardown(() => throwing.destroy())
  const settle = (value) => new Promise((resolve) => throwing.runTask(value, (...args) => resolve(args)))
  for (const value of [null, undefined, 0, '', false]) {
    const args = await settle(value)
    t.is(args.length, 1)
    t.is(args[0].code, 'ERR_FALSY_VALUE_REJECTION')
    t.true(args[0] instanceof Error)
    t.is(args[0].reason, value)
  }
  t.deepEqual(await settle('a string'), ['a string'])
})

test('an uncloneable return value rejects with a DataCloneError; an uncloneable own property is dropped', async (t) => {
  // As from postMessage and structuredClone: a DOMException.
  const error = await run(pool, 'uncloneable').catch((e) => e)
  t.true(error instanceof DOMException)
  t.is(error.name, 'DataCloneError')
  t.regex(error.message, /could not be cloned/)
  const partial = await t.throwsAsync(run(pool, 'uncloneableError'))
  t.is(partial.message, 'with a function')
  t.is(partial.callback, undefined)
  // The pool goes on.
  t.is(await run(pool, 'add', { a: 1, b: 2 }), 3)
})

test('a thrown value or cause that cannot be cloned arrives as the DataCloneError that says why', async (t) => {
  const thrown = await run(pool, 'throwUncloneable').catch((e) => e)
  t.true(thrown instanceof DOMException)
  t.is(thrown.name, 'DataCloneError')
  const withCause = await t.throwsAsync(run(pool, 'uncloneableCause'))
  t.is(withCause.message, 'with an uncloneable cause')
  t.is(withCause.cause.name, 'DataCloneError')
  t.regex(withCause.cause.message, /Symbol\(cause\) could not be cloned/)
  t.is(await run(pool, 'add', { a: 2, b: 3 }), 5)
})

test('a result whose then getter throws rejects with that error', async (t) => {
  await t.throwsAsync(run(pool, 'badThenable'), { message: 'then getter' })
})

test('an unknown task name rejects with ERR_BATON_TASK_NOT_FOUND', async (t) => {
  const error = await t.throwsAsync(run(pool, 'nope'), { code: 'ERR_BATON_TASK_NOT_FOUND' })
  t.regex(error.message, /'nope'/)
  // Own properties of Object.prototype are not tasks.
  await t.throwsAsync(run(pool, 'toString'), { code: 'ERR_BATON_TASK_NOT_FOUND' })
  await t.throwsAsync(run(pool, 'constructor'), { code: 'ERR_BATON_TASK_NOT_FOUND' })
})

test('process.exit(3) in a task rejects exactly that task; the worker is replaced and queued tasks run', async (t) => {
  const crashing = new WorkerPool({ filename: TASKS, maxThreads: 1 })
  const exits = []
  crashing.on('workerExit', (worker, code) => exits.push(code))
  const before = run(crashing, 'delayed', { value: 'before', ms: 1 })
  const exiting = run(crashing, 'exit', 3)
  const queued = Array.from({ length: 5 }, (_, i) => run(crashing, 'delayed', { value: i, ms: 1 }))
  t.is(await before, 'before')
  const error = await t.throwsAsync(exiting, { code: 'ERR_BATON_WORKER_EXITED' })
  t.regex(error.message, /exited with code 3/)
  t.deepEqual(await Promise.all(queued), [0, 1, 2, 3, 4])
  t.deepEqual(exits, [3])
  t.is(crashing.threads.length, 1)
  await crashing.close()
})

test('a task waiting in the inbox of a worker that exits was not started: it runs on the replacement', async (t) => {
  const events = listen()
  t.teardown(events.close)
  const crashing = new WorkerPool({ filename: TASKS, maxThreads: 1, concurrentTasksPerWorker: 2 })
  const exiting = run(crashing, 'busyThenExit', { id: 'busy-exit', ms: 150 })
  await events.next((m) => m.started === 'busy-exit')
  // The worker's thread is busy: this task reaches its inbox, not its JavaScript.
  const waiting = run(crashing, 'add', { a: 40, b: 2 })
  t.is((await t.throwsAsync(exiting)).code, 'ERR_BATON_WORKER_EXITED')
  t.is(await waiting, 42)
  await crashing.close()
})

test('an uncaught exception in a timer inside the worker rejects its tasks with the cause', async (t) => {
  const crashing = new WorkerPool({ filename: TASKS, maxThreads: 1, concurrentTasksPerWorker: 2 })
  const error = await t.throwsAsync(run(crashing, 'throwInTimer', 'timer boom'), { code: 'ERR_BATON_WORKER_EXITED' })
  t.is(error.cause.message, 'timer boom')
  t.regex(error.message, /timer boom/)
  t.is(await run(crashing, 'add', { a: 2, b: 2 }), 4)
  await crashing.close()
})

test('running out of the resourceLimits heap rejects with ERR_BATON_WORKER_EXITED and the cause', async (t) => {
  const small = new WorkerPool({ filename: TASKS, maxThreads: 1, resourceLimits: { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 4 } })
  const error = await t.throwsAsync(run(small, 'exhaustHeap'), { code: 'ERR_BATON_WORKER_EXITED' })
  t.is(error.cause.code, 'ERR_WORKER_OUT_OF_MEMORY')
  t.is(await run(small, 'add', { a: 1, b: 1 }), 2)
  await small.close()
})

test('a missing worker file fails at construction with ERR_MODULE_NOT_FOUND', (t) => {
  t.throws(() => new WorkerPool(join(fixtures, 'missing.js')), { code: 'ERR_MODULE_NOT_FOUND' })
  t.throws(() => new WorkerPool({ filename: new URL('file:///nowhere/at/all.mjs') }), { code: 'ERR_MODULE_NOT_FOUND' })
  t.throws(() => new WorkerPool(fixtures), { code: 'ERR_MODULE_NOT_FOUND' })
})

for (const [file, pattern] of [
  ['syntax-error.js', /SyntaxError|Unexpected end of input/],
  ['no-function.js', /exports no function/],
  ['exit-on-load.js', /process.exit\(\) while loading/],
  ['unsettled-await.mjs', /the module's evaluation never settled: its top-level await is still pending/],
]) {
  test(`an unloadable worker module (${file}) rejects tasks with ERR_BATON_WORKER_INIT, without respawning forever`, async (t) => {
    const broken = new WorkerPool({ filename: join(fixtures, file), minThreads: 1, maxThreads: 2 })
    let created = 0
    broken.on('workerCreate', () => created++)
    const errors = await Promise.all(Array.from({ length: 4 }, () => broken.run(1).catch((e) => e)))
    for (const error of errors) {
      t.is(error.code, 'ERR_BATON_WORKER_INIT')
      t.regex(error.message, pattern)
      t.truthy(error.cause)
    }
    // Settled: no worker keeps being started.
    await new Promise((resolve) => setTimeout(resolve, 200))
    const settledCreated = created
    await new Promise((resolve) => setTimeout(resolve, 200))
    t.is(created, settledCreated)
    t.true(created <= 2)
    // A later task tries again, and fails the same way.
    await t.throwsAsync(broken.run(2), { code: 'ERR_BATON_WORKER_INIT' })
    await broken.close()
  })
}

test('maxQueue 0 and a module that fails to load: each later task starts a worker and tries again, not refused as a full queue', async (t) => {
  const broken = new WorkerPool({ filename: join(fixtures, 'syntax-error.js'), minThreads: 0, maxThreads: 1, maxQueue: 0 })
  let created = 0
  broken.on('workerCreate', () => created++)
  for (let i = 1; i <= 3; i++) {
    await t.throwsAsync(broken.run(i), { code: 'ERR_BATON_WORKER_INIT' })
    t.is(created, i)
  }
  await broken.close()
})

test('an unsettled top-level await: the cause has a code, and the worker exits with 13 as Node reports it', async (t) => {
  const pool = new WorkerPool({ filename: join(fixtures, 'unsettled-await.mjs'), minThreads: 0, maxThreads: 1 })
  const exit = new Promise((resolve) => pool.once('workerExit', (worker, code) => resolve(code)))
  const error = await t.throwsAsync(pool.run(1), { code: 'ERR_BATON_WORKER_INIT' })
  t.is(error.cause.code, 'ERR_BATON_WORKER_MODULE_UNSETTLED')
  t.notRegex(error.message, /process\.exit/)
  t.is(await exit, 13)
  await pool.close()
})

test('a batch whose wake-up comes as its worker is terminated goes to the replacement: none of its tasks is lost', async (t) => {
  const own = new WorkerPool({ filename: TASKS, maxThreads: 1, concurrentTasksPerWorker: 4 })
  // Up and attached: a starting worker's inbox waits for it, and goes back whole if it ends.
  t.is(await run(own, 'add', { a: 0, b: 0 }), 0)
  const blocked = run(own, 'block', 300)
  await new Promise((resolve) => setTimeout(resolve, 50))
  // In the blocked worker's inbox, with its wake-up pending, when the thread ends.
  const waiting = [run(own, 'add', { a: 1, b: 1 }), run(own, 'echo', ''), run(own, 'echo', 'x'.repeat(1000))]
  const [victim] = own.threads
  await victim.terminate()
  t.is((await t.throwsAsync(blocked)).code, 'ERR_BATON_WORKER_EXITED')
  t.deepEqual(await Promise.all(waiting), [2, '', 'x'.repeat(1000)])
  await own.close()
})
