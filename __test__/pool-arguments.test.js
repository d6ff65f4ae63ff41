'use strict'

// Every public method's bad arguments: Node's codes and messages, thrown at once.
// Timer options: Node's timers take at most 2^31-1 ms (beyond, they fire after 1 ms).
const test = require('ava')
const { once } = require('node:events')
const { WorkerPool } = require('..')
const { TASKS, listen } = require('./pool-helpers')

const typeError = (message) => ({ instanceOf: TypeError, code: 'ERR_INVALID_ARG_TYPE', message })

test('new WorkerPool(bad): Node codes and messages', (t) => {
  t.throws(() => new WorkerPool(null), typeError('The "options" argument must be of type object. Received null'))
  t.throws(() => new WorkerPool(true), typeError('The "options" argument must be of type object. Received type boolean (true)'))
  t.throws(() => new WorkerPool({ execArgv: ['--x', 1] }), typeError('The "options.execArgv[1]" property must be of type string. Received type number (1)'))
  t.throws(() => new WorkerPool({ execArgv: '--x' }), typeError("The \"options.execArgv\" property must be an instance of Array. Received type string ('--x')"))
})

test('run and close: bad arguments reject with ERR_INVALID_ARG_TYPE, as piscina\'s async methods do; runTask\'s bad callback throws; nothing is submitted', async (t) => {
  const pool = new WorkerPool({ filename: TASKS, minThreads: 0, maxThreads: 1 })
  // Each returns a rejected promise, not a throw.
  const rejects = (call, expected) => {
    let returned
    t.notThrows(() => {
      returned = call()
    })
    t.true(returned instanceof Promise)
    return t.throwsAsync(returned, expected)
  }
  await rejects(() => pool.run(1, null), typeError('The "options" argument must be of type object. Received null'))
  await rejects(() => pool.run(1, 42), typeError('The "options" argument must be of type object. Received type number (42)'))
  await rejects(() => pool.run(1, { signal: 'x' }), typeError("The \"options.signal\" property must be an instance of AbortSignal, EventTarget or EventEmitter. Received type string ('x')"))
  await rejects(() => pool.run(1, { name: 1 }), typeError('The "options.name" property must be of type string. Received type number (1)'))
  await rejects(() => pool.close(null), typeError('The "options" argument must be of type object. Received null'))
  await rejects(() => pool.close(42), typeError('The "options" argument must be of type object. Received type number (42)'))
  await rejects(() => pool.close({ force: 'yes' }), typeError("The \"options.force\" property must be of type boolean. Received type string ('yes')"))
  t.throws(() => pool.runTask(1, 'x'), typeError("The \"callback\" argument must be of type function. Received type string ('x')"))
  t.throws(() => pool.runTask(1, null), typeError('The "callback" argument must be of type function. Received null'))
  t.is(pool.queueSize, 0)
  // null is an option's absence, as for piscina: the pool's `name`, no signal.
  const named = new WorkerPool({ filename: TASKS, name: 'add', minThreads: 0, maxThreads: 1 })
  t.is(await named.run({ a: 1, b: 2 }, { name: null, signal: null, transferList: undefined }), 3)
  await named.close()
  // None of those closed it.
  t.is(await pool.run({ a: 1, b: 2 }, { name: 'add' }), 3)
  await pool.close(undefined)
  t.pass()
})

test('timer options: Infinity is never; beyond 2^31-1 ms is ERR_OUT_OF_RANGE, for each', (t) => {
  for (const option of ['idleTimeout', 'abortGracePeriod', 'closeTimeout']) {
    for (const value of [2 ** 31, 1e12, -1, NaN, -Infinity]) {
      t.throws(() => new WorkerPool({ filename: TASKS, minThreads: 0, [option]: value }), {
        instanceOf: RangeError,
        code: 'ERR_OUT_OF_RANGE',
        message: new RegExp(`^The value of "options\\.${option}" is out of range\\. It must be >= 0 && <= 2147483647, or Infinity\\. Received `),
      })
    }
    for (const value of [0, 2 ** 31 - 1, Infinity]) new WorkerPool({ filename: TASKS, minThreads: 0, [option]: value }).destroy()
  }
  t.pass()
})

test('abortGracePeriod: Infinity never terminates a worker whose handler ignores its signal', async (t) => {
  const pool = new WorkerPool({ filename: TASKS, minThreads: 1, maxThreads: 1, abortGracePeriod: Infinity })
  const events = listen()
  t.teardown(() => events.close())
  const exits = []
  pool.on('workerExit', (worker, code) => exits.push(code))
  const controller = new AbortController()
  const task = pool.run('ignores-forever', { name: 'ignoreAbort', signal: controller.signal })
  await events.next((data) => data.started === 'ignores-forever')
  controller.abort()
  await t.throwsAsync(task, { name: 'AbortError' })
  // Setting Infinity in a Node timer fires it after 1 ms: 200 ms is far past that.
  await new Promise((resolve) => setTimeout(resolve, 200))
  t.deepEqual(exits, [])
  t.is(pool.threads.length, 1)
  const exited = once(pool.threads[0], 'exit')
  await pool.destroy()
  await exited
})
