'use strict'

// close() and destroy() end the pool's workers and wait for each thread's 'exit'. A
// thread that throws an uncaught exception as it ends emits 'error' first; that must
// not fail the shutdown the caller asked for (as Node's own worker.terminate() resolves
// then too), and an unawaited close() must not become an unhandled rejection.
const test = require('ava')
const { join } = require('node:path')
const { WorkerPool } = require('..')
const { fixtures } = require('./pool-helpers')

const LATE_THROW = join(fixtures, 'late-throw.js')

for (const end of ['close', 'destroy']) {
  test(`${end}() resolves when a worker throws as the pool ends it`, async (t) => {
    const pool = new WorkerPool({ filename: LATE_THROW, name: 'throwAfter', minThreads: 1, maxThreads: 1 })
    const go = new Int32Array(new SharedArrayBuffer(4))
    const ending = new Int32Array(new SharedArrayBuffer(4))
    t.is(await pool.run([go, ending]), 'settled')
    // The thread throws and is ending, and this thread has not yet heard of it: the
    // 'error' comes while the pool waits for the exit.
    Atomics.store(go, 0, 1)
    Atomics.notify(go, 0)
    t.not(Atomics.wait(ending, 0, 0, 5000), 'timed-out')
    await t.notThrowsAsync(pool[end]())
    t.is(pool.threads.length, 0)
  })
}
