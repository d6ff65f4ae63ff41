'use strict'

// transferList: checked before the task is submitted, with the errors postMessage gives
// on this Node line; a task whose list is refused never runs.
const test = require('ava')
const { MessageChannel } = require('node:worker_threads')
const { WorkerPool } = require('..')
const { TASKS, listen } = require('./pool-helpers')

/** What this Node's postMessage does with `list`: undefined if it takes it, else its error. */
function postMessageError(list) {
  const { port1, port2 } = new MessageChannel()
  try {
    port1.postMessage(0, list)
  } catch (error) {
    return error
  } finally {
    port1.close()
    port2.close()
  }
}

function detachedBuffer() {
  const buffer = new ArrayBuffer(4)
  structuredClone(buffer, { transfer: [buffer] })
  return buffer
}

const LISTS = {
  'a pooled Buffer': () => [Buffer.from('x').buffer],
  "a Wasm memory's buffer": () => [new WebAssembly.Memory({ initial: 1 }).buffer],
  'a buffer listed twice': () => {
    const buffer = new ArrayBuffer(4)
    return [buffer, buffer]
  },
  'a detached buffer': () => [detachedBuffer()],
  'a good buffer, then a pooled Buffer': () => [new ArrayBuffer(4), Buffer.from('y').buffer],
}

for (const [what, makeList] of Object.entries(LISTS)) {
  test(`transferList with ${what}: as postMessage on this Node; a refused task never runs`, async (t) => {
    const pool = new WorkerPool({ filename: TASKS, minThreads: 1, maxThreads: 1 })
    const events = listen()
    t.teardown(() => events.close())
    const list = makeList()
    const expected = postMessageError(makeList())
    const lengths = list.map((buffer) => buffer.byteLength)
    // A promise either way, never a synchronous throw.
    const outcome = pool.run({ id: `listed: ${what}`, ms: 0 }, { name: 'announced', transferList: list }).then(
      () => undefined,
      (error) => error,
    )
    const error = await outcome
    if (expected === undefined) {
      t.is(error, undefined)
    } else {
      t.truthy(error)
      t.is(error.constructor, expected.constructor)
      t.is(error.name, expected.name)
      t.is(error.message, expected.message)
      t.is(error.code, expected.code)
      // Refused: the buffers are left as they were, and the task was not submitted.
      t.deepEqual(
        list.map((buffer) => buffer.byteLength),
        lengths,
      )
      t.is(pool.queueSize, 0)
      // On one worker, in order: a task the pool took would have started before this one.
      t.is(await pool.run({ id: `after: ${what}`, ms: 0 }, { name: 'announced' }), `after: ${what}`)
      await events.next((data) => data.started === `after: ${what}`)
      t.false(events.seen.some((data) => data.started === `listed: ${what}`))
    }
    // Neither ends in a TypeError from a task the pool lost track of.
    const gated = pool.run(`held: ${what}`, { name: 'gated' }).catch((e) => e)
    await events.next((data) => data.started === `held: ${what}`)
    const queued = pool.run({}, { name: 'echo', transferList: makeList() }).catch((e) => e)
    await pool.destroy()
    t.is((await gated).code, 'ERR_BATON_POOL_CLOSED')
    t.is((await queued).name, expected === undefined ? 'Error' : expected.name)
  })
}

test('close({ force }) after a refused transferList ends cleanly', async (t) => {
  const pool = new WorkerPool({ filename: TASKS, minThreads: 1, maxThreads: 1 })
  const list = [new ArrayBuffer(4)]
  list.push(list[0])
  const error = await pool.run({}, { name: 'echo', transferList: list }).catch((e) => e)
  t.is(error.name, 'DataCloneError')
  await pool.close({ force: true })
  t.pass()
})

test('several views of one buffer transfer it once; a listed buffer and its view too', async (t) => {
  const pool = new WorkerPool({ filename: TASKS, maxThreads: 1 })
  const buffer = new ArrayBuffer(8)
  new Uint8Array(buffer).set([1, 2, 3, 4, 5, 6, 7, 8])
  const a = new Uint8Array(buffer, 0, 4)
  const b = new DataView(buffer, 4)
  const echoed = await pool.run(new Uint8Array(buffer), { name: 'echo', transferList: [a, b, buffer] })
  t.deepEqual([...echoed], [1, 2, 3, 4, 5, 6, 7, 8])
  t.is(buffer.byteLength, 0)
  await pool.close()
})

test('a bad transferList element is named with ERR_INVALID_ARG_TYPE, rejecting the run', async (t) => {
  const pool = new WorkerPool({ filename: TASKS, minThreads: 0, maxThreads: 1 })
  const error = await t.throwsAsync(pool.run({}, { transferList: [new ArrayBuffer(1), new ArrayBuffer(1), { not: 'a buffer' }] }), {
    code: 'ERR_INVALID_ARG_TYPE',
  })
  t.is(error.message, 'The "options.transferList[2]" property must be an instance of ArrayBuffer, TypedArray, DataView, MessagePort, or another transferable object. Received an instance of Object')
  await t.throwsAsync(pool.run({}, { transferList: [new SharedArrayBuffer(1)] }), { code: 'ERR_INVALID_ARG_TYPE', message: /"options\.transferList\[0\]"/ })
  // eslint-disable-next-line no-sparse-arrays
  await t.throwsAsync(pool.run({}, { transferList: [new ArrayBuffer(1), , new ArrayBuffer(1)] }), { message: /"options\.transferList\[1\]".*Received undefined/ })
  await t.throwsAsync(pool.run({}, { transferList: new ArrayBuffer(1) }), { code: 'ERR_INVALID_ARG_TYPE', message: /"options\.transferList" property must be an instance of Array/ })
  t.is(pool.queueSize, 0)
  await pool.destroy()
})
