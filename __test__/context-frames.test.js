'use strict'

// A frame holds each storage once. Found by the soak (scripts/soak.js): an enterWith()
// inside a run() of another storage, or enterWith()s of two storages in turn, pushed a
// new entry in front of the old one every time, so the current context grew without
// bound (19 MB after 200,000 such runs) and a getStore() that missed walked all of it.
// Needs --expose-gc (set for every test file in package.json's ava config).

const test = require('ava')
const { AsyncLocalStorage } = require('..')

function heapGrowth(churn) {
  global.gc()
  const before = process.memoryUsage().heapUsed
  churn()
  global.gc()
  return process.memoryUsage().heapUsed - before
}

// 200,000 iterations left 19 MB before the fix; what stays now is one frame per storage.
const BOUND = 2 * 1024 * 1024

test('an enterWith() inside a run() of another storage, 200,000 times, does not grow the context', async (t) => {
  const outer = new AsyncLocalStorage()
  const inner = new AsyncLocalStorage()
  const untouched = new AsyncLocalStorage({ defaultValue: 'default' })
  await untouched.run('kept', async () => {
    await null // A context of its own, which the enterWith()s below then change.
    const growth = heapGrowth(() => {
      for (let i = 0; i < 200_000; i++) outer.run(i, () => inner.enterWith(i))
    })
    t.true(growth < BOUND, `the heap grew by ${(growth / 1024 / 1024).toFixed(1)} MB`)
    t.is(inner.getStore(), 199_999)
    t.is(outer.getStore(), undefined)
    t.is(untouched.getStore(), 'kept')
    t.is(new AsyncLocalStorage().getStore(), undefined)
  })
})

test('enterWith() of two storages in turn, 200,000 times, does not grow the context', async (t) => {
  const a = new AsyncLocalStorage()
  const b = new AsyncLocalStorage()
  await a.run('start', async () => {
    await null
    const growth = heapGrowth(() => {
      for (let i = 0; i < 200_000; i++) {
        a.enterWith(i)
        b.enterWith(-i)
      }
    })
    t.true(growth < BOUND, `the heap grew by ${(growth / 1024 / 1024).toFixed(1)} MB`)
    t.is(a.getStore(), 199_999)
    t.is(b.getStore(), -199_999)
  })
})

test('dropping an older entry keeps what callbacks captured before, and nested runs still unwind', async (t) => {
  const a = new AsyncLocalStorage()
  const b = new AsyncLocalStorage()
  const seen = []
  await a.run(1, async () => {
    await null
    b.enterWith('b1')
    const early = new Promise((resolve) => setImmediate(() => resolve([a.getStore(), b.getStore()])))
    a.enterWith(2) // Drops a's entry below b's: the immediate captured the frame before.
    a.run(3, () => {
      b.run('b2', () => seen.push([a.getStore(), b.getStore()]))
      seen.push([a.getStore(), b.getStore()])
    })
    seen.push([a.getStore(), b.getStore()])
    t.deepEqual(await early, [1, 'b1'])
  })
  t.deepEqual(seen, [
    [3, 'b2'],
    [3, 'b1'],
    [2, 'b1'],
  ])
})
