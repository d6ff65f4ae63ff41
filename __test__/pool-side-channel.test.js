'use strict'

// What only postMessage can carry goes by each worker's side channel (lib/pool/side-channel.js):
// SharedArrayBuffers stay shared and moved buffers move, both ways; every such task
// still settles exactly once when its worker dies, when it is aborted, when the pool
// closes; a task the pool refuses moves nothing.
const test = require('ava')
const { join } = require('node:path')
const { MessageChannel } = require('node:worker_threads')
const { AsyncLocalStorage, WorkerPool, move, transferableSymbol, valueSymbol } = require('..')
const { fixtures, listen, runScript } = require('./pool-helpers')

const TRANSFER = join(fixtures, 'transfer.js')
/** Bounds every wait for the other thread: a copied SharedArrayBuffer fails, never hangs. */
const WAIT_MS = 5000

/**
 * 'ok' once `view[index]` is no longer 0, also when the other thread set it before the
 * wait began (then Atomics.waitAsync answers 'not-equal' at once); 'timed-out' after WAIT_MS.
 */
async function changed(view, index) {
  const { async, value } = Atomics.waitAsync(view, index, 0, WAIT_MS)
  if (async) return value
  return value === 'not-equal' ? 'ok' : value
}

const onePool = (t, options = {}) => {
  const pool = new WorkerPool({ filename: TRANSFER, minThreads: 1, maxThreads: 1, ...options })
  t.teardown(() => pool.destroy())
  return pool
}

/**
 * onePool's pool once its worker has started. WAIT_MS bounds the other thread's answer,
 * not a worker's start, which takes seconds on a loaded machine: in the full matrix (load
 * about 30) such a wait failed once, and the task left running was then rejected,
 * unhandled, by the teardown's destroy().
 */
async function startedPool(t) {
  const pool = onePool(t)
  await pool.run(new Uint8Array(1), { name: 'describe' })
  return pool
}

test('a SharedArrayBuffer nested in a task is shared: Atomics wait and notify across the threads', async (t) => {
  const pool = await startedPool(t)
  const shared = new SharedArrayBuffer(8)
  const view = new Int32Array(shared)
  const done = pool.run({ nested: [shared] }, { name: 'handshake' })
  // The worker writes 1 at index 0 and waits for our answer at index 1.
  t.is(await changed(view, 0), 'ok')
  Atomics.store(view, 1, 1)
  Atomics.notify(view, 1)
  t.is(await done, 'ok')
})

test('a SharedArrayBuffer in a result is shared: each side sees the other side write', async (t) => {
  const pool = onePool(t)
  const { deep } = await pool.run(null, { name: 'keepShared' })
  t.true(deep.shared instanceof SharedArrayBuffer)
  const view = new Int32Array(deep.shared)
  Atomics.store(view, 1, 99)
  const waited = Atomics.waitAsync(view, 0, 0, WAIT_MS).value
  // The worker reads 99 at index 1, writes 7 at index 0 and wakes us.
  t.is(await pool.run(7, { name: 'writeKept' }), 99)
  t.is(await waited, 'ok')
  t.is(Atomics.load(view, 0), 7)
})

test('a top-level SharedArrayBuffer and one in a plain-looking object both arrive shared', async (t) => {
  const pool = onePool(t)
  const shared = new SharedArrayBuffer(4)
  new Uint8Array(shared)[0] = 5
  t.deepEqual(await pool.run(shared, { name: 'describe' }), { type: 'SharedArrayBuffer', length: 4, first: 5 })
  t.deepEqual(await pool.run(new Uint8Array(shared), { name: 'describe' }), { type: 'Uint8Array', length: 4, first: 5 })
})

test('a listed buffer and a moved task move to the worker: detached here, whole there', async (t) => {
  const pool = onePool(t)
  const buffer = new ArrayBuffer(16)
  new Uint8Array(buffer)[0] = 3
  t.deepEqual(await pool.run({ buffer }.buffer, { name: 'describe', transferList: [buffer] }), { type: 'ArrayBuffer', length: 16, first: 3 })
  t.is(buffer.byteLength, 0)
  const view = new Uint16Array(8)
  view[0] = 4
  t.deepEqual(await pool.run(move(view), { name: 'describe' }), { type: 'Uint16Array', length: 16, first: 4 })
  t.is(view.byteLength, 0)
  // Moved and listed: moved once, not refused as a duplicate.
  const both = new ArrayBuffer(2)
  t.deepEqual(await pool.run(move(both), { name: 'describe', transferList: [both] }), { type: 'ArrayBuffer', length: 2, first: 0 })
})

test('move() in the worker moves the result back: the worker keeps a detached buffer; without it, a copy', async (t) => {
  const pool = onePool(t)
  const sent = new Uint8Array([1, 2, 3, 4])
  const back = await pool.run(sent, { name: 'moveBack' })
  t.true(back instanceof Uint8Array)
  t.deepEqual([...back], [1, 2, 3, 4])
  t.is(await pool.run(null, { name: 'lastMovedLength' }), 0)
  const copied = await pool.run(sent, { name: 'copyBack' })
  t.deepEqual([...copied], [1, 2, 3, 4])
  t.is(await pool.run(null, { name: 'lastMovedLength' }), 4)
})

test('a MessagePort in transferList reaches the handler, which can talk on it', async (t) => {
  const pool = onePool(t)
  const { port1, port2 } = new MessageChannel()
  const heard = new Promise((resolve) => port1.once('message', resolve))
  t.is(await pool.run({ port: port2, text: 'hello' }, { name: 'postOnPort', transferList: [port2] }), 'posted')
  t.is(await heard, 'hello')
  port1.close()
})

test('what cannot be moved back rejects with postMessage\'s error; the worker goes on', async (t) => {
  const pool = onePool(t)
  const error = await pool.run(null, { name: 'moveShared' }).catch((e) => e)
  const { port1 } = new MessageChannel()
  let expected
  try {
    port1.postMessage(null, [new SharedArrayBuffer(4)])
  } catch (e) {
    expected = e
  }
  port1.close()
  t.is(error.name, expected.name)
  t.is(error.message, expected.message)
  t.deepEqual(await pool.run(new Uint8Array([9]), { name: 'describe' }), { type: 'Uint8Array', length: 1, first: 9 })
})

test('tasks with moved buffers spread over the workers and each gets its own payload', async (t) => {
  const pool = onePool(t, { minThreads: 2, maxThreads: 2, concurrentTasksPerWorker: 2 })
  const results = await Promise.all(
    Array.from({ length: 24 }, (_, i) => {
      const view = new Uint8Array(i + 1).fill(i)
      return pool.run(move(view), { name: 'describe' })
    }),
  )
  t.deepEqual(
    results,
    Array.from({ length: 24 }, (_, i) => ({ type: 'Uint8Array', length: i + 1, first: i })),
  )
})

test('a refused task moves nothing: queue full, closed pool, aborted signal', async (t) => {
  const events = listen()
  t.teardown(() => events.close())
  const pool = onePool(t, { maxQueue: 1 })
  const held = pool.run({ id: 'hold', value: new ArrayBuffer(1) }, { name: 'gated' })
  await events.next((data) => data.started === 'hold')
  // The worker is busy and this one fills the queue.
  const queued = pool.run(new Uint8Array([1]), { name: 'describe' })
  const full = new ArrayBuffer(8)
  t.is((await pool.run(full, { name: 'describe', transferList: [full] }).catch((e) => e)).code, 'ERR_BATON_QUEUE_FULL')
  const moved = new Uint8Array(8)
  t.is((await pool.run(move(moved), { name: 'describe' }).catch((e) => e)).code, 'ERR_BATON_QUEUE_FULL')
  t.is(full.byteLength, 8)
  t.is(moved.byteLength, 8)
  const aborted = new ArrayBuffer(8)
  const error = await pool.run(aborted, { name: 'describe', transferList: [aborted], signal: AbortSignal.abort() }).catch((e) => e)
  t.is(error.name, 'AbortError')
  t.is(aborted.byteLength, 8)
  events.release('hold')
  await held
  await queued
  await pool.close()
  const closed = new ArrayBuffer(8)
  t.is((await pool.run(closed, { name: 'describe', transferList: [closed] }).catch((e) => e)).code, 'ERR_BATON_POOL_CLOSED')
  t.is(closed.byteLength, 8)
})

test('a worker that dies with moved tasks in flight rejects each once, the started and the waiting; the pool goes on', async (t) => {
  const pool = onePool(t)
  const buffers = [new ArrayBuffer(4), new ArrayBuffer(4)]
  const dying = pool.run(3, { name: 'exit', transferList: [buffers[0]] }).catch((e) => e)
  // Pinned behind it, to the same worker: its payload went there, so it ends with it.
  const waiting = pool.run(buffers[1], { name: 'describe', transferList: [buffers[1]] }).catch((e) => e)
  const plain = pool.run(new Uint8Array([6]), { name: 'describe' })
  t.is((await dying).code, 'ERR_BATON_WORKER_EXITED')
  t.is((await waiting).code, 'ERR_BATON_WORKER_EXITED')
  // A plain task goes to the replacement, as do new moved ones.
  t.deepEqual(await plain, { type: 'Uint8Array', length: 1, first: 6 })
  t.deepEqual(await pool.run(move(new Uint8Array([8])), { name: 'describe' }), { type: 'Uint8Array', length: 1, first: 8 })
})

test('an empty transferList moves nothing: the task is not pinned, and goes to the replacement of a worker that died', async (t) => {
  const pool = onePool(t)
  const dying = pool.run(3, { name: 'exit' }).catch((e) => e)
  const queued = pool.run(new Uint8Array([6]), { name: 'describe', transferList: [] })
  t.is((await dying).code, 'ERR_BATON_WORKER_EXITED')
  t.deepEqual(await queued, { type: 'Uint8Array', length: 1, first: 6 })
})

test('an aborted moved task that had not started is skipped: the next one gets its own payload', async (t) => {
  const events = listen()
  t.teardown(() => events.close())
  const pool = onePool(t)
  const held = pool.run({ id: 'first', value: new ArrayBuffer(1) }, { name: 'gated' })
  await events.next((data) => data.started === 'first')
  const controller = new AbortController()
  const skipped = pool.run(move(new Uint8Array([1])), { name: 'describe', signal: controller.signal }).catch((e) => e)
  const next = pool.run(move(new Uint8Array([2, 2])), { name: 'describe' })
  controller.abort()
  t.is((await skipped).name, 'AbortError')
  events.release('first')
  t.deepEqual(await held, { type: 'ArrayBuffer', length: 1, first: 0 })
  t.deepEqual(await next, { type: 'Uint8Array', length: 2, first: 2 })
})

test('close({ force }) and destroy() reject moved tasks waiting for their worker, once each', async (t) => {
  const events = listen()
  t.teardown(() => events.close())
  const pool = onePool(t)
  const held = pool.run({ id: 'busy', value: new ArrayBuffer(1) }, { name: 'gated' })
  await events.next((data) => data.started === 'busy')
  const queued = pool.run(move(new Uint8Array(4)), { name: 'describe' }).catch((e) => e)
  const closing = pool.close({ force: true })
  t.is((await queued).code, 'ERR_BATON_POOL_CLOSED')
  events.release('busy')
  t.deepEqual(await held, { type: 'ArrayBuffer', length: 1, first: 0 })
  await closing
  const other = onePool(t)
  const running = other.run({ id: 'running', value: new ArrayBuffer(1) }, { name: 'gated' })
  await events.next((data) => data.started === 'running')
  const waiting = other.run(move(new Uint8Array(4)), { name: 'describe' }).catch((e) => e)
  await other.destroy()
  t.is((await running.catch((e) => e)).code, 'ERR_BATON_POOL_CLOSED')
  t.is((await waiting).code, 'ERR_BATON_POOL_CLOSED')
})

test('a pool with no worker yet (minThreads 0) starts one for a moved task', async (t) => {
  const pool = onePool(t, { minThreads: 0 })
  t.deepEqual(await pool.run(move(new Uint8Array([5])), { name: 'describe' }), { type: 'Uint8Array', length: 1, first: 5 })
})

// Zero-copy, observed without timing: the process's peak resident memory (Linux's VmHWM),
// in a child process of its own. Moving a 256 MB buffer in and out four times must
// raise it by less than a quarter of the buffer; the same buffer sent once as a copy,
// the control, raises it by at least its size (both copies are resident at once).
test('a 256 MB buffer moved in and back four times is never copied: the peak RSS barely moves, as a copy\'s does', async (t) => {
  const result = JSON.parse(await runScript('zero-copy.js'))
  t.true(result.intactAfterMoves)
  t.true(result.intactAfterCopy)
  t.true(result.moved < result.size / 4, `moving raised the peak by ${result.moved} bytes`)
  t.true(result.copied >= result.size, `the control copy raised the peak by only ${result.copied} bytes`)
})

test('maxQueue 0: a moved task that finds every worker busy starts another worker for it, as a plain task does', async (t) => {
  const pool = new WorkerPool({ filename: TRANSFER, minThreads: 1, maxThreads: 2, maxQueue: 0 })
  t.teardown(() => pool.destroy())
  const busy = pool.run({ value: 'busy', ms: 300 }, { filename: join(fixtures, 'tasks.js'), name: 'delayed' })
  const view = new Uint8Array([7, 8, 9])
  const described = await pool.run(move(view), { name: 'describe' })
  t.deepEqual(described, { type: 'Uint8Array', length: 3, first: 7 })
  t.is(view.byteLength, 0, 'moved, not copied')
  t.is(await busy, 'busy')
  t.is(pool.threads.length, 2)
  // Both workers busy and none may start: refused, and nothing moved.
  const blocks = [pool.run({ value: 1, ms: 300 }, { filename: join(fixtures, 'tasks.js'), name: 'delayed' }), pool.run({ value: 2, ms: 300 }, { filename: join(fixtures, 'tasks.js'), name: 'delayed' })]
  const kept = new Uint8Array([1])
  await t.throwsAsync(pool.run(move(kept), { name: 'describe' }), { code: 'ERR_BATON_QUEUE_FULL' })
  t.is(kept.byteLength, 1)
  t.deepEqual(await Promise.all(blocks), [1, 2])
})

test('a view on a SharedArrayBuffer is shared as the buffer is, both ways (V8 format alone would copy its bytes)', async (t) => {
  const pool = await startedPool(t)
  const view = new Int32Array(new SharedArrayBuffer(8))
  const done = pool.run({ nested: [view] }, { name: 'handshakeView' })
  t.is(await changed(view, 0), 'ok')
  Atomics.store(view, 1, 1)
  Atomics.notify(view, 1)
  t.is(await done, 'ok')
  const { deep: [back] } = await pool.run(null, { name: 'keepSharedView' })
  t.true(back.buffer instanceof SharedArrayBuffer)
  Atomics.store(back, 1, 42)
  const answer = pool.run(7, { name: 'writeKept' })
  t.is(await changed(back, 0), 'ok')
  t.is(Atomics.load(back, 0), 7)
  t.is(await answer, 42)
})

test('a Transferable may name an array of objects to move, as piscina concatenates it, both ways', async (t) => {
  const pool = onePool(t)
  const first = new Uint8Array([5])
  const second = new Uint8Array([6, 7])
  const task = { [transferableSymbol]: [first.buffer, second.buffer], [valueSymbol]: second }
  t.deepEqual(await pool.run(move(task), { name: 'describe' }), { type: 'Uint8Array', length: 2, first: 6 })
  t.is(first.byteLength, 0)
  t.is(second.byteLength, 0)
  const { first: a, second: b } = await pool.run(null, { name: 'moveTwo' })
  t.deepEqual([...a, ...b], [1, 2, 3])
})

test('a moved task whose marked store cannot be cloned rejects with ERR_BATON_STORE_NOT_CLONEABLE naming the storage, moving nothing', async (t) => {
  const pool = onePool(t)
  const session = new AsyncLocalStorage({ name: 'session', cloneIntoWorkers: true })
  const view = new Uint8Array([1, 2])
  const error = await session.run({ close() {} }, () => pool.run(move(view), { name: 'describe' }).catch((e) => e))
  t.is(error.code, 'ERR_BATON_STORE_NOT_CLONEABLE')
  t.regex(error.message, /'session'/)
  t.is(view.byteLength, 2)
})
