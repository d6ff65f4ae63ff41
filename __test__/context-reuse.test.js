'use strict'

// On the hooks engine (Node 20/22) baton reuses the frame of a run() that nothing
// captured. Each scenario here captures a context inside one run() in one way, runs
// more run() calls that would reuse a wrongly released frame, and checks that the
// captured context still sees its own stores. Every scenario runs against Node too:
// both must observe the same thing.

const test = require('ava')
const nodeAsyncHooks = require('node:async_hooks')
const baton = require('..')

const implementations = [
  ['node', nodeAsyncHooks],
  ['baton', baton],
]

for (const [label, { AsyncLocalStorage, AsyncResource }] of implementations) {
  const is = (title) => `${label}: ${title}`

  /** Runs more run() calls, each with values of its own, on both storages. */
  function runMore(a, b) {
    for (let i = 0; i < 3; i++) a.run(`later ${i}`, () => b.run(i, () => {}))
  }

  // Each: captures the current context with `read`, and later calls `done(read())` in it.
  // None makes a promise inside the run(), which would be a capture of its own.
  const asynchronous = {
    setTimeout: (read, done) => setTimeout(() => done(read()), 1),
    setImmediate: (read, done) => setImmediate(() => done(read())),
    'process.nextTick': (read, done) => process.nextTick(() => done(read())),
    queueMicrotask: (read, done) => queueMicrotask(() => done(read())),
  }
  for (const [name, capture] of Object.entries(asynchronous)) {
    test(is(`a context captured by ${name} inside run() keeps its stores after later runs`), async (t) => {
      const a = new AsyncLocalStorage()
      const b = new AsyncLocalStorage()
      const seen = new Promise((resolve) => {
        a.run('captured', () => capture(() => [a.getStore(), b.getStore()], resolve))
      })
      runMore(a, b)
      t.deepEqual(await seen, ['captured', undefined])
    })
  }

  // Each: captures the current context, returns a function that later runs `read` in it.
  const synchronous = {
    'new AsyncResource': (read) => {
      const resource = new AsyncResource('test.Reuse')
      return () => resource.runInAsyncScope(read)
    },
    'AsyncLocalStorage.bind': (read) => AsyncLocalStorage.bind(read),
    'AsyncLocalStorage.snapshot': (read) => {
      const snapshot = AsyncLocalStorage.snapshot()
      return () => snapshot(read)
    },
  }
  for (const [name, capture] of Object.entries(synchronous)) {
    test(is(`a context captured by ${name} inside run() keeps its stores after later runs`), (t) => {
      const a = new AsyncLocalStorage()
      const b = new AsyncLocalStorage()
      const later = a.run('captured', () => capture(() => [a.getStore(), b.getStore()]))
      runMore(a, b)
      t.deepEqual(later(), ['captured', undefined])
    })
  }

  test(is('a context captured inside a nested run() keeps the outer run()\'s store too'), (t) => {
    const a = new AsyncLocalStorage()
    const b = new AsyncLocalStorage()
    const resource = a.run('outer', () => b.run('inner', () => new AsyncResource('test.Reuse')))
    runMore(a, b)
    t.deepEqual(resource.runInAsyncScope(() => [a.getStore(), b.getStore()]), ['outer', 'inner'])
  })

  test(is("a storage that read inside another storage's run() reads again in a later run()"), (t) => {
    const a = new AsyncLocalStorage()
    const b = new AsyncLocalStorage()
    a.run(1, () => t.is(b.getStore(), undefined))
    b.enterWith('b')
    a.run(2, () => t.is(b.getStore(), 'b'))
  })

  test(is('a storage that read inside its own exit() reads again in a later run()'), (t) => {
    const a = new AsyncLocalStorage()
    t.is(a.exit(() => a.getStore()), undefined)
    t.is(a.run(1, () => a.getStore()), 1)
  })

  test(is('a storage that read inside a run() and was disabled there reads the runs that follow'), (t) => {
    const a = new AsyncLocalStorage()
    const b = new AsyncLocalStorage()
    // getStore() caches the run's frame; disable() must not leave it behind, nor let
    // the next run() reuse that frame.
    const kept = b.run('b', () => a.run('a', () => {
      t.is(a.getStore(), 'a')
      a.disable()
      t.is(a.getStore(), undefined)
      return new AsyncResource('test.Reuse')
    }))
    runMore(a, b)
    t.is(a.run('again', () => a.getStore()), 'again')
    t.deepEqual(a.run('x', () => kept.runInAsyncScope(() => [a.getStore(), b.getStore()])), [undefined, 'b'])
  })

  // Node has withScope() from 24.20 on; baton on every line.
  if ('withScope' in AsyncLocalStorage.prototype) {
    test(is('a scope from withScope() inside run() restores its storage after later runs'), (t) => {
      const a = new AsyncLocalStorage()
      const b = new AsyncLocalStorage()
      const scope = a.run('a', () => b.run('outer', () => b.withScope('inner')))
      runMore(a, b)
      scope.dispose()
      t.is(b.getStore(), 'outer')
    })
  }
}
