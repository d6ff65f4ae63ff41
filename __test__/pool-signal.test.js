'use strict'

const test = require('ava')
const { join } = require('node:path')
const { WorkerPool } = require('..')
const { seesSignal } = require('../lib/pool/signal-use')
const { listen } = require('./pool-helpers')

const SIGNALS = join(__dirname, 'fixtures', 'pool', 'signals.js')

let events
test.before(() => {
  events = listen()
})
test.after.always(() => events.close())

test('seesSignal: false only for a handler that cannot reach its second argument', (t) => {
  const blind = [
    ({ a, b }) => a + b,
    (task) => task,
    async (task) => task,
    function (task) {
      return task
    },
    () => 1,
    ({ a, b: [c, d] }) => a + c + d,
    { m(task) { return task } }.m,
    { async *g(task) {} }.g,
  ]
  // Written without parentheses, which a formatter would add here.
  blind.push((0, eval)('task => task'), (0, eval)('async task => task'))
  for (const handler of blind) t.false(seesSignal(handler), String(handler))
  const seeing = [
    (task, signal) => signal,
    (task, ...rest) => rest,
    (task = 1) => task,
    (task,) => task,
    (task) => eval('task'),
    (task) => arguments.length,
    // Sloppy: other code may read `handler.arguments` while it runs.
    new Function('task', 'return task'),
    { m(task, signal) { return signal } }.m,
    ((task) => task).bind(null),
    new Proxy((task) => task, {}),
    Math.max,
    class { constructor(task) {} },
    (/* the task */ task) => task,
    (tâche) => tâche,
    ({ a = 1 }) => a,
  ]
  for (const handler of seeing) t.true(seesSignal(handler), String(handler))
})

test('every handler shape that can reach its second argument gets an AbortSignal, one per task', async (t) => {
  const pool = new WorkerPool({ filename: SIGNALS, maxThreads: 1 })
  for (const name of ['named', 'rest', 'defaulted', 'destructured', 'sloppy', 'method', 'bound']) {
    t.true(await pool.run({ a: 1 }, { name }), name)
  }
  const counts = await Promise.all(Array.from({ length: 10 }, () => pool.run(null, { name: 'distinct' })))
  t.is(Math.max(...counts), 10)
  await pool.close()
})

for (const name of ['restAborted', 'sloppyAborted']) {
  test(`a handler that reaches its signal through ${name === 'restAborted' ? 'a rest parameter' : '`arguments`'} sees it fire on abort`, async (t) => {
    const pool = new WorkerPool({ filename: SIGNALS, maxThreads: 1 })
    const controller = new AbortController()
    const id = `${name}-1`
    const running = pool.run(id, { name, signal: controller.signal })
    await events.next((m) => m.started === id)
    controller.abort()
    await t.throwsAsync(running, { name: 'AbortError' })
    t.true((await events.next((m) => m.aborted === id)).isSignal)
    await pool.close()
  })
}

test('a handler given no signal is aborted all the same, and its worker goes on', async (t) => {
  const pool = new WorkerPool({ filename: SIGNALS, maxThreads: 1, abortGracePeriod: 5000 })
  const controller = new AbortController()
  const running = pool.run(200, { name: 'oneParameter', signal: controller.signal })
  setTimeout(() => controller.abort(), 20)
  await t.throwsAsync(running, { name: 'AbortError' })
  t.is(await pool.run(1, { name: 'oneParameter' }), 'finished')
  await pool.close()
})
