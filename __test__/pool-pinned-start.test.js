'use strict'

// A task that goes by a worker's side channel (shared memory, a transferList) is pinned
// to one worker when it is submitted. When every worker is busy and the pool may start
// another, it is pinned to the worker started for it, as a queued plain task would be
// taken by that worker: pinned to a busy one, it would wait for that one even with the
// new worker free, and forever when the busy task waits for it (found by piscina's
// idle-timeout test, whose two tasks meet through Atomics with maxThreads 2).
const test = require('ava')
const { join } = require('node:path')
const { WorkerPool } = require('..')
const { fixtures } = require('./pool-helpers')

const RENDEZVOUS = join(fixtures, 'rendezvous.js')

const sharedCounter = () => new Int32Array(new SharedArrayBuffer(4))

for (const minThreads of [0, 1]) {
  test(`minThreads ${minThreads}, maxThreads 2: two tasks on shared memory that wait for each other both run, on two workers`, async (t) => {
    const pool = new WorkerPool({ filename: RENDEZVOUS, name: 'rendezvous', minThreads, maxThreads: 2 })
    t.teardown(() => pool.destroy())
    const counter = sharedCounter()
    const [first, second] = await Promise.all([pool.run({ counter, n: 2 }), pool.run({ counter, n: 2 })])
    t.true(first.met)
    t.true(second.met)
    t.not(first.threadId, second.threadId)
    t.is(pool.threads.length, 2)
  })
}

test('a task with a transferList, submitted while the only worker is busy, runs on the worker started for it', async (t) => {
  const pool = new WorkerPool({ filename: RENDEZVOUS, name: 'rendezvous', minThreads: 1, maxThreads: 2 })
  t.teardown(() => pool.destroy())
  const counter = sharedCounter()
  const moved = new ArrayBuffer(16)
  const [first, second] = await Promise.all([pool.run({ counter, n: 2 }), pool.run({ counter, n: 2, moved }, { transferList: [moved] })])
  t.true(first.met)
  t.true(second.met)
  t.is(second.movedLength, 16)
  t.is(moved.byteLength, 0)
  t.not(first.threadId, second.threadId)
})
