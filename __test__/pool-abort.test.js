'use strict'

const test = require('ava')
const { setTimeout: sleep } = require('node:timers/promises')
const { WorkerPool } = require('..')
const { TASKS, listen, nextEvent } = require('./pool-helpers')

let events
test.before(() => {
  events = listen()
})
test.after.always(() => events.close())

let nextId = 0
const uid = (what) => `${what}-${++nextId}`

function assertAbortError(t, error, reason) {
  t.is(error.name, 'AbortError')
  // piscina's message, for code that switches from piscina.
  t.is(error.message, 'The task has been aborted')
  t.is(error.code, 'ABORT_ERR')
  t.is(error.cause, reason)
}

test('an already-aborted signal rejects at once, without running the task', async (t) => {
  const pool = new WorkerPool({ filename: TASKS, minThreads: 0, maxThreads: 1 })
  const reason = new Error('no longer wanted')
  const id = uid('early')
  const error = await t.throwsAsync(pool.run({ id, ms: 1 }, { name: 'announced', signal: AbortSignal.abort(reason) }))
  assertAbortError(t, error, reason)
  t.is(pool.threads.length, 0)
  t.is(pool.queueSize, 0)
  await pool.close()
  t.false(events.seen.some((m) => m.started === id))
})

test('an already-aborted signal rejects with its AbortError before the transferList is checked', async (t) => {
  const pool = new WorkerPool({ filename: TASKS, minThreads: 0, maxThreads: 1 })
  const reason = new Error('given up')
  const shared = new SharedArrayBuffer(8)
  // Not aborted, the same list is refused: a SharedArrayBuffer is shared, not moved.
  const refused = await t.throwsAsync(pool.run(shared, { name: 'echo', transferList: [shared] }))
  t.is(refused.code, 'ERR_INVALID_ARG_TYPE')
  const error = await t.throwsAsync(pool.run(shared, { name: 'echo', transferList: [shared], signal: AbortSignal.abort(reason) }))
  assertAbortError(t, error, reason)
  // What is not a list at all is still the argument's error, aborted or not.
  const notList = await t.throwsAsync(pool.run(1, { name: 'echo', transferList: shared, signal: AbortSignal.abort(reason) }))
  t.is(notList.code, 'ERR_INVALID_ARG_TYPE')
  t.is(pool.queueSize, 0)
  await pool.close()
})

test('a queued task leaves the queue when aborted', async (t) => {
  const pool = new WorkerPool({ filename: TASKS, maxThreads: 1 })
  const busyId = uid('busy')
  const busy = pool.run(busyId, { name: 'gated' })
  await events.next((m) => m.started === busyId)
  const controller = new AbortController()
  const id = uid('queued')
  const queued = pool.run({ id, ms: 1 }, { name: 'announced', signal: controller.signal })
  const after = pool.run({ id: uid('after'), ms: 1 }, { name: 'announced' })
  t.is(pool.queueSize, 2)
  controller.abort('reason string')
  assertAbortError(t, await t.throwsAsync(queued), 'reason string')
  t.is(pool.queueSize, 1)
  events.release(busyId)
  await Promise.all([busy, after])
  t.false(events.seen.some((m) => m.started === id))
  await pool.close()
})

test("a running task's handler gets an AbortSignal that fires; its worker stays", async (t) => {
  const pool = new WorkerPool({ filename: TASKS, maxThreads: 1, abortGracePeriod: 1000 })
  const exits = []
  pool.on('workerExit', () => exits.push(1))
  const controller = new AbortController()
  const id = uid('cooperative')
  const running = pool.run(id, { name: 'waitForAbort', signal: controller.signal })
  await events.next((m) => m.started === id)
  const reason = new Error('stop')
  controller.abort(reason)
  assertAbortError(t, await t.throwsAsync(running), reason)
  const heard = await events.next((m) => m.aborted === id)
  t.true(heard.isSignal)
  t.is(heard.reason, 'AbortError')
  // The handler's signal.reason is what Node's AbortController makes: a DOMException.
  t.true(heard.isDOMException)
  t.is(heard.message, 'The task has been aborted')
  // Past the grace period: the handler finished, so its worker was left alone.
  await sleep(1300)
  t.deepEqual(exits, [])
  t.is(await pool.run({ a: 1, b: 2 }, { name: 'add' }), 3)
  await pool.close()
})

for (const handler of ['ignoreAbort', 'spin']) {
  test(`a handler that ignores its signal (${handler}) loses its worker after abortGracePeriod; the pool goes on`, async (t) => {
    const pool = new WorkerPool({ filename: TASKS, maxThreads: 1, abortGracePeriod: 30 })
    const controller = new AbortController()
    const id = uid(handler)
    const stuck = pool.run(id, { name: handler, signal: controller.signal })
    await events.next((m) => m.started === id)
    // Queued behind the stuck task: it runs on the replacement.
    const bystander = pool.run({ value: 'bystander', ms: 1 }, { name: 'delayed' })
    const exited = nextEvent(pool, 'workerExit')
    const created = nextEvent(pool, 'workerCreate')
    controller.abort()
    const error = await t.throwsAsync(stuck)
    t.is(error.name, 'AbortError')
    t.true(error.cause instanceof DOMException)
    await exited
    await created
    t.is(await bystander, 'bystander')
    t.deepEqual(await Promise.all([1, 2, 3].map((a) => pool.run({ a, b: 1 }, { name: 'add' }))), [2, 3, 4])
    await pool.close()
  })
}

test('co-running tasks on a worker ended for an abort are re-queued and still resolve', async (t) => {
  const pool = new WorkerPool({ filename: TASKS, maxThreads: 1, concurrentTasksPerWorker: 3, abortGracePeriod: 30 })
  const controller = new AbortController()
  const stuckId = uid('stuck')
  const innocents = [uid('innocent'), uid('innocent')]
  const stuck = pool.run(stuckId, { name: 'ignoreAbort', signal: controller.signal })
  const others = innocents.map((id) => pool.run(id, { name: 'gated' }))
  await Promise.all([stuckId, ...innocents].map((id) => events.next((m) => m.started === id)))
  const exited = nextEvent(pool, 'workerExit')
  controller.abort()
  await t.throwsAsync(stuck, { name: 'AbortError' })
  await exited
  // Each innocent starts again on the new worker, and finishes there.
  const startedTwice = (id) => events.next(() => events.seen.filter((m) => m.started === id).length === 2)
  await Promise.all(innocents.map(startedTwice))
  for (const id of innocents) events.release(id)
  t.deepEqual(await Promise.all(others), innocents)
  await pool.close()
})

test('aborting after settling does nothing; one signal for many tasks aborts them all', async (t) => {
  const pool = new WorkerPool({ filename: TASKS, maxThreads: 1, concurrentTasksPerWorker: 2, abortGracePeriod: 30 })
  const controller = new AbortController()
  t.is(await pool.run({ a: 1, b: 1 }, { name: 'add', signal: controller.signal }), 2)
  const ids = [uid('shared'), uid('shared'), uid('shared')]
  const runs = ids.map((id) => pool.run(id, { name: 'waitForAbort', signal: controller.signal }))
  await Promise.all(ids.slice(0, 2).map((id) => events.next((m) => m.started === id)))
  controller.abort()
  for (const run of runs) await t.throwsAsync(run, { name: 'AbortError' })
  t.is(await pool.run({ a: 2, b: 2 }, { name: 'add' }), 4)
  await pool.close()
})

test("signal may be an EventEmitter of 'abort', as piscina takes it: a queued and a running task abort, listeners are removed once settled", async (t) => {
  const { EventEmitter } = require('node:events')
  const pool = new WorkerPool({ filename: TASKS, maxThreads: 1 })
  const running = new EventEmitter()
  const queued = new EventEmitter()
  const untouched = new EventEmitter()
  const id = uid('emitter-running')
  const runningTask = pool.run(id, { name: 'waitForAbort', signal: running })
  await events.next((m) => m.started === id)
  const queuedId = uid('emitter-queued')
  const queuedTask = pool.run({ id: queuedId, ms: 1 }, { name: 'announced', signal: queued })
  const settled = pool.run({ a: 1, b: 2 }, { name: 'add', signal: untouched })
  t.is(pool.queueSize, 2)
  queued.emit('abort')
  // An emitter has no reason: the AbortError's cause is undefined, as piscina's.
  assertAbortError(t, await t.throwsAsync(queuedTask), undefined)
  t.is(queued.listenerCount('abort'), 0)
  running.emit('abort', 'ignored argument')
  assertAbortError(t, await t.throwsAsync(runningTask), undefined)
  t.is((await events.next((m) => m.aborted === id)).message, 'The task has been aborted')
  t.is(await settled, 3)
  t.is(untouched.listenerCount('abort'), 0)
  t.false(events.seen.some((m) => m.started === queuedId))
  // A bare EventTarget of 'abort' works too.
  const target = new EventTarget()
  const viaTarget = pool.run({ value: 'late', ms: 5000 }, { name: 'delayed', signal: target })
  target.dispatchEvent(new Event('abort'))
  assertAbortError(t, await t.throwsAsync(viaTarget), undefined)
  await pool.close()
})

test('one batch of an abort between runs of every payload form: each message read where it lies', async (t) => {
  const pool = new WorkerPool({ filename: TASKS, maxThreads: 1, concurrentTasksPerWorker: 8 })
  const controller = new AbortController()
  const id = uid('batched')
  const aborted = pool.run(id, { name: 'waitForAbort', signal: controller.signal })
  await events.next((m) => m.started === id)
  // Everything below waits in the worker's inbox while it blocks, and reaches it in one batch.
  const blocked = pool.run(300, { name: 'block' })
  await sleep(50)
  controller.abort()
  const long = 'x'.repeat(1000)
  const runs = [pool.run(new Map([[1, { a: [2] }]]), { name: 'echo' }), pool.run(long, { name: 'echo' }), pool.run({ a: 1, b: 2 }, { name: 'add' }), pool.run('', { name: 'echo' })]
  await t.throwsAsync(aborted, { name: 'AbortError' })
  t.is(await blocked, 300)
  t.deepEqual(await Promise.all(runs), [new Map([[1, { a: [2] }]]), long, 3, ''])
  t.true((await events.next((m) => m.aborted === id)).isSignal)
  await pool.close()
})
