'use strict'

const test = require('ava')
const { AsyncLocalStorage, createHook, executionAsyncId } = require('node:async_hooks')
const { execFileSync } = require('node:child_process')
const { join } = require('node:path')
const { fibonacci, failingTask, performAsyncTask } = require('..')
const binding = require('../lib/shared/binding')
const { callbackOutcome, hooksEngine } = require('./helpers')

const als = new AsyncLocalStorage()
const other = new AsyncLocalStorage()

/** Runs `start(cb)` inside `als.run(store)` and resolves with what `cb` saw. */
function storeSeenByCallback(store, start) {
  return callbackOutcome((done) => als.run(store, () => start((...args) => done(als.getStore(), ...args))))
}

test('the callback sees the caller store (performAsyncTask)', async (t) => {
  const { args } = await storeSeenByCallback('perform', (cb) => performAsyncTask(cb))
  t.deepEqual(args, ['perform', null, 17])
})

test('the error callback sees the caller store (failingTask)', async (t) => {
  const { args } = await storeSeenByCallback('failing', (cb) => failingTask(cb))
  t.is(args[0], 'failing')
  t.is(args[1].message, 'I am a failing task')
})

test('callback, every onProgress call and the abort callback see the caller store (fibonacci)', async (t) => {
  const storesInProgress = new Set()
  const { args } = await storeSeenByCallback({ request: 7 }, (cb) =>
    fibonacci(300_000, { onProgress: () => storesInProgress.add(als.getStore()) }, cb),
  )
  t.deepEqual(args[0], { request: 7 })
  t.is(args[1], null)
  t.is(storesInProgress.size, 1)
  t.deepEqual([...storesInProgress][0], { request: 7 })

  const controller = new AbortController()
  const aborted = await storeSeenByCallback('aborted', (cb) =>
    fibonacci(30_000_000, { signal: controller.signal, onProgress: () => controller.abort() }, cb),
  )
  t.is(aborted.args[0], 'aborted')
  t.is(aborted.args[1].name, 'AbortError')

  const early = await storeSeenByCallback('early', (cb) => fibonacci(10, { signal: AbortSignal.abort() }, cb))
  t.is(early.args[0], 'early')
})

test('Promise continuations see the caller store, in every form', async (t) => {
  await als.run('awaited', async () => {
    t.is(await performAsyncTask(), 17)
    t.is(als.getStore(), 'awaited')
    await t.throwsAsync(failingTask())
    t.is(als.getStore(), 'awaited')
    const seen = []
    await fibonacci(100_000, { onProgress: () => seen.push(als.getStore()) })
    t.is(als.getStore(), 'awaited')
    t.true(seen.length > 0 && seen.every((s) => s === 'awaited'))
  })
  const thenStore = await als.run('then', () => fibonacci(1000).then(() => als.getStore()))
  t.is(thenStore, 'then')
  const abortStore = await als.run('abort', () =>
    fibonacci(30_000_000, { signal: AbortSignal.timeout(5) }).catch(() => als.getStore()),
  )
  t.is(abortStore, 'abort')
})

test('two calls made in different contexts and completing in the other order each see their own', async (t) => {
  const order = []
  const slow = storeSeenByCallback('slow', (cb) =>
    fibonacci(3_000_000, (...args) => {
      order.push('slow')
      cb(...args)
    }),
  )
  const fast = storeSeenByCallback('fast', (cb) =>
    fibonacci(10, (...args) => {
      order.push('fast')
      cb(...args)
    }),
  )
  const [s, f] = await Promise.all([slow, fast])
  t.deepEqual(order, ['fast', 'slow'])
  t.is(s.args[0], 'slow')
  t.is(f.args[0], 'fast')
})

test('hundreds of interleaved calls, each in its own context, each see their own', async (t) => {
  const mismatches = []
  await Promise.all(
    Array.from({ length: 400 }, (_, id) =>
      als.run(id, () =>
        other.run(`other-${id}`, () => {
          const check = (where) => {
            if (als.getStore() !== id || other.getStore() !== `other-${id}`) mismatches.push([id, where])
          }
          const n = 500 + ((id * 7919) % 20_000)
          return Promise.all([
            new Promise((resolve) => performAsyncTask(() => resolve(check('perform callback')))),
            new Promise((resolve) =>
              fibonacci(n, { onProgress: () => check('progress') }, () => resolve(check('fib callback'))),
            ),
            fibonacci(n).then(() => check('fib promise')),
          ])
        }),
      ),
    ),
  )
  t.deepEqual(mismatches, [])
})

test('outside any run() the callback sees no store', async (t) => {
  const { args } = await callbackOutcome((done) => als.exit(() => performAsyncTask(() => done(als.getStore()))))
  t.deepEqual(args, [undefined])
})

test.serial('async_hooks sees each call, in either form, as one resource of its task type, and the callback runs inside it', async (t) => {
  const inits = new Map()
  const hook = createHook({
    init(asyncId, type, triggerAsyncId) {
      if (type.startsWith('baton.')) inits.set(asyncId, { type, triggerAsyncId })
    },
  }).enable()
  try {
    const caller = executionAsyncId()
    const { args } = await callbackOutcome((cb) => fibonacci(20, () => cb(executionAsyncId())))
    const resource = inits.get(args[0])
    t.truthy(resource, 'the callback runs in an async resource baton created')
    t.is(resource.type, 'baton.fibonacci')
    t.is(resource.triggerAsyncId, caller)
    // The Promise form is a resource of the task type too; each call is exactly one.
    const promiseCaller = executionAsyncId()
    await fibonacci(20)
    const ours = [...inits.values()].filter((r) => r.type === 'baton.fibonacci')
    t.deepEqual(
      ours.map((r) => r.triggerAsyncId),
      [caller, promiseCaller],
    )
  } finally {
    hook.disable()
  }
})

test.serial('a callback call with nothing to abort it or report progress is one resource on the async_hooks engine', async (t) => {
  const types = []
  const hook = createHook({
    init(asyncId, type) {
      if (type.startsWith('baton.') || type === 'baton_napi.Work') types.push(type)
    },
  }).enable()
  try {
    const { args } = await callbackOutcome((cb) => als.run('alone', () => performAsyncTask(() => cb(als.getStore()))))
    t.is(args[0], 'alone')
  } finally {
    hook.disable()
  }
  // There the work's own resource carries the stores into its completion. On
  // AsyncContextFrame only a context of napi_async_init brings the caller's frame back,
  // so the call captures one beside its work.
  t.deepEqual(types, hooksEngine ? ['baton.performAsyncTask'] : ['baton.performAsyncTask', 'baton_napi.Work'])
})

test('control: the plain napi-rs callback path loses the store with AsyncContextFrame (the bug baton fixes)', async (t) => {
  // AsyncContextFrame is the default engine of Node 24 and 26.
  const { args } = await storeSeenByCallback('plain', (cb) => binding.plainAsyncTask(cb))
  t.is(args[0], hooksEngine ? 'plain' : undefined)
  t.is(args[2], 17)
})

test('a throwing callback is an uncaught exception in the caller context; the process goes on', (t) => {
  const out = execFileSync(process.execPath, [join(__dirname, 'fixtures', 'throwing-callback.js')], {
    encoding: 'utf8',
    timeout: 30_000,
  })
  const lines = out.trim().split('\n').map((line) => JSON.parse(line))
  t.deepEqual(lines, [{ uncaught: 'from the callback', store: 'thrower' }, { value: 17, store: 'after' }])
})
