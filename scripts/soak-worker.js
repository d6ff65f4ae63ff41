'use strict'

// The soak's worker side (scripts/soak.js), two roles in one file:
// - the WorkerPool's task module: `echo` returns its task, `stored` the clone of the
//   marked store it received;
// - with workerData `{ soak: ops, end }`: a worker_thread that loads baton, uses it
//   `ops` times, leaves some resources and a task alive, and ends: `end` is 'exit'
//   (process.exit), 'return' (nothing left to run) or 'terminate' (by the main side).

const { isMainThread, parentPort, workerData } = require('node:worker_threads')
const { AsyncLocalStorage, AsyncResource, fibonacci } = require('..')

// The same name as the main side's marked storage: tasks are entered in this one.
const request = new AsyncLocalStorage({ name: 'soak.request', cloneIntoWorkers: true })

module.exports = {
  echo: (value) => value,
  stored: () => request.getStore(),
}

if (!isMainThread && typeof workerData?.soak === 'number') {
  const { soak: ops, end } = workerData
  const storage = new AsyncLocalStorage()
  let ran = 0
  for (let i = 0; i < ops; i++) {
    const resource = storage.run(i, () => new AsyncResource('soak.thread'))
    resource.runInAsyncScope(() => {
      if (storage.getStore() === i) ran++
    })
    // Most are destroyed; the rest are still listed when the thread ends.
    if (i % 16 !== 0) resource.emitDestroy()
  }
  const kept = new AsyncResource('soak.thread.kept', { requireManualDestroy: true })
  // A native task still running (or just done) when the thread ends.
  fibonacci(200_000).catch(() => {})
  setImmediate(() => {
    parentPort.postMessage({ ran, kept: kept.asyncId() })
    if (end === 'exit') process.exit(0)
  })
}
