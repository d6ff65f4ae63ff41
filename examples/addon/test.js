'use strict'

// The example addon's own test, run on Node 20, 22, 24 and 26 by baton's CI: the task
// and the thread-safe callback built on baton-napi call back in the caller's async
// context on every line; the plain napi-rs code beside them loses it on 24/26.

const assert = require('node:assert/strict')
const { AsyncLocalStorage, createHook, executionAsyncId } = require('node:async_hooks')
const { spawnSync } = require('node:child_process')
const { test } = require('node:test')
const { Ticker, plainSumTo, plainTicks, sumTo, sumToCancellable } = require('./index.js')

const als = new AsyncLocalStorage()
const major = Number(process.versions.node.split('.')[0])
// Node 24 and 26 run AsyncLocalStorage on AsyncContextFrame, which napi-rs's own
// callbacks do not restore: they see no store there.
const plainKeeps = major < 24

function callback() {
  let settle
  const done = new Promise((resolve) => {
    settle = resolve
  })
  return { done, cb: (...args) => settle({ args, store: als.getStore() }) }
}

test('sumTo calls back with the sum in the caller\'s context', async () => {
  const { done, cb } = callback()
  const returned = als.run('task', () => sumTo(1000, undefined, undefined, cb))
  assert.equal(returned, undefined)
  const { args, store } = await done
  assert.deepEqual(args, [null, 500500])
  assert.equal(store, 'task')
})

test('sumTo without a callback returns a Promise', async () => {
  assert.equal(await sumTo(1000), 500500)
})

test('two calls in different contexts each see their own', async () => {
  const first = callback()
  const second = callback()
  als.run('first', () => sumTo(3_000_000, undefined, undefined, first.cb))
  als.run('second', () => sumTo(10, undefined, undefined, second.cb))
  assert.equal((await second.done).store, 'second')
  assert.equal((await first.done).store, 'first')
})

test('progress reports arrive in the caller\'s context, all before the callback', async () => {
  const reports = []
  const { done, cb } = callback()
  als.run('progress', () =>
    sumTo(1_000_000, undefined, (fraction) => reports.push([fraction, als.getStore()]), (...args) => {
      reports.push(['done'])
      cb(...args)
    }),
  )
  const { store } = await done
  assert.equal(store, 'progress')
  assert.ok(reports.length >= 2, `${reports.length} reports`)
  assert.deepEqual(reports.at(-1), ['done'])
  for (const [fraction, seen] of reports.slice(0, -1)) {
    assert.ok(fraction > 0 && fraction <= 1, String(fraction))
    assert.equal(seen, 'progress')
  }
})

test('an AbortSignal stops the task with an AbortError whose cause is the reason', async () => {
  const controller = new AbortController()
  const reason = new Error('enough')
  const pending = als.run('abort', () => sumTo(4_000_000_000, controller.signal))
  setTimeout(() => controller.abort(reason), 10)
  const error = await pending.then(
    () => assert.fail('resolved'),
    (e) => e,
  )
  assert.equal(error.name, 'AbortError')
  assert.equal(error.code, 'ABORT_ERR')
  // As `new Error(message, { cause })` makes it, and Node's own AbortError.
  assert.deepEqual(Object.getOwnPropertyDescriptor(error, 'cause'), {
    value: reason,
    writable: true,
    enumerable: false,
    configurable: true,
  })
})

test('an already aborted signal fails the call, in callback form in the caller\'s context', async () => {
  const { done, cb } = callback()
  als.run('aborted', () => sumTo(10, AbortSignal.abort('early'), undefined, cb))
  const { args, store } = await done
  assert.equal(args.length, 1)
  assert.equal(args[0].code, 'ABORT_ERR')
  assert.equal(args[0].cause, 'early')
  assert.equal(store, 'aborted')
})

test('an abort settles the call without waiting for a libuv thread', { timeout: 20_000 }, async () => {
  // Every libuv thread (4 by default) is busy with a task that only an abort ends.
  const busy = new AbortController()
  const settled = []
  const running = Array.from({ length: 4 }, (_, i) =>
    sumTo(4_000_000_000, busy.signal).catch((error) => {
      settled.push(i)
      return error
    }),
  )
  const early = await sumTo(10, AbortSignal.abort()).catch((error) => error)
  assert.equal(early.code, 'ABORT_ERR')
  const queued = new AbortController()
  const later = sumTo(10, queued.signal).catch((error) => error)
  queued.abort()
  assert.equal((await later).code, 'ABORT_ERR')
  assert.deepEqual(settled, [], 'the busy tasks were still running')
  busy.abort()
  for (const error of await Promise.all(running)) assert.equal(error.code, 'ABORT_ERR')
})

test('an abort handle settles a callback call without a signal at once, in the caller\'s context', async () => {
  const { done, cb } = callback()
  // Long enough to be running when cancel() comes; without a flag it is not stopped.
  const call = als.run('cancelled', () => sumToCancellable(50_000_000, cb))
  setImmediate(() => call.cancel())
  const { args, store } = await done
  assert.equal(args[0]?.code, 'ABORT_ERR')
  assert.equal(store, 'cancelled')
})

test('a signal that is not an AbortSignal is refused with ERR_INVALID_ARG_TYPE', () => {
  assert.throws(() => sumTo(10, {}), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' })
})

test('async_hooks sees each call as one example.SumTo resource triggered by its caller, the callback inside it', async () => {
  const seen = new Map()
  const hook = createHook({
    init(asyncId, type, triggerAsyncId) {
      if (type === 'example.SumTo') seen.set(asyncId, { triggerAsyncId, destroyed: false })
    },
    destroy(asyncId) {
      if (seen.has(asyncId)) seen.get(asyncId).destroyed = true
    },
  }).enable()
  const { done, cb } = callback()
  let callbackIn
  const callers = await new Promise((resolve) => {
    setImmediate(() => {
      const first = executionAsyncId()
      sumTo(10, undefined, undefined, (...args) => {
        callbackIn = executionAsyncId()
        cb(...args)
      })
      resolve([first])
    })
  })
  await done
  await new Promise((resolve) => {
    setImmediate(() => {
      callers.push(executionAsyncId())
      sumTo(10).then(resolve)
    })
  })
  await new Promise((resolve) => setImmediate(resolve))
  hook.disable()
  const resources = [...seen]
  assert.equal(resources.length, 2, 'one per call, in either form')
  assert.deepEqual(resources.map(([, r]) => r.triggerAsyncId), callers)
  assert.equal(callbackIn, resources[0][0], 'the callback runs inside its resource')
  assert.ok(resources.every(([, r]) => r.destroyed), 'both destroyed once settled')
})

test('Ticker calls back from its Rust thread in the context of each tick(), not of its creation', async () => {
  const ticks = { a: [], b: [] }
  let remaining = 6
  let finish
  const done = new Promise((resolve) => {
    finish = resolve
  })
  const ticker = als.run('creation', () =>
    new Ticker((i) => {
      const store = als.getStore()
      ;(ticks[store] ??= []).push(i)
      if (--remaining === 0) finish()
    }),
  )
  als.run('a', () => ticker.tick(3))
  als.run('b', () => ticker.tick(3))
  await done
  assert.deepEqual(ticks, { a: [0, 1, 2], b: [0, 1, 2] })
  ticker.close()
})

test('an open Ticker keeps the process alive while ticks may come, and not after', () => {
  // Nothing else keeps this child alive: it must wait for the three ticks, then exit on
  // its own with the Ticker still open. The time-out only catches a hang.
  const script = `
    const { Ticker } = require(${JSON.stringify(require.resolve('./index.js'))})
    const ticker = new Ticker((i) => console.log(i))
    ticker.tick(3)
  `
  const child = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 20_000 })
  assert.equal(child.signal, null, 'the child hung')
  assert.equal(child.status, 0, child.stderr)
  assert.equal(child.stdout, '0\n1\n2\n')
})

test('an onTick that throws raises an uncaught exception in the context of its tick()', () => {
  const script = `
    const { AsyncLocalStorage } = require('node:async_hooks')
    const { Ticker } = require(${JSON.stringify(require.resolve('./index.js'))})
    const als = new AsyncLocalStorage()
    process.on('uncaughtException', (error) => console.log(error.message, als.getStore()))
    const ticker = new Ticker((i) => { throw new Error('tick ' + i) })
    als.run('thrower', () => ticker.tick(2))
  `
  const child = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 20_000 })
  assert.equal(child.signal, null, 'the child hung')
  assert.equal(child.status, 0, child.stderr)
  assert.equal(child.stdout, 'tick 0 thrower\ntick 1 thrower\n')
})

test('a closed Ticker delivers nothing more', async () => {
  const seen = []
  const ticker = new Ticker((i) => seen.push(i))
  ticker.close()
  ticker.tick(5)
  await new Promise((resolve) => setTimeout(resolve, 50))
  assert.deepEqual(seen, [])
})

test(`plain napi-rs AsyncTask ${plainKeeps ? 'keeps' : 'loses'} the context on Node ${major}`, async () => {
  const { done, cb } = callback()
  als.run('plain', () => plainSumTo(1000, cb))
  const { args, store } = await done
  assert.deepEqual(args, [null, 500500])
  assert.equal(store, plainKeeps ? 'plain' : undefined)
})

test(`plain napi-rs ThreadsafeFunction ${plainKeeps ? 'keeps' : 'loses'} the context on Node ${major}`, async () => {
  const seen = []
  let finish
  const done = new Promise((resolve) => {
    finish = resolve
  })
  als.run('plain', () =>
    plainTicks(3, (i) => {
      seen.push([i, als.getStore()])
      if (seen.length === 3) finish()
    }),
  )
  await done
  const store = plainKeeps ? 'plain' : undefined
  assert.deepEqual(seen, [[0, store], [1, store], [2, store]])
})
