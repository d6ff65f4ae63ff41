'use strict'

// baton's public API (CommonJS). index.mjs re-exports it for ESM; index.d.ts types it.
const context = require('./lib/context')
const pool = require('./lib/pool')
const tasks = require('./lib/tasks')
const carried = require('./lib/context/carried')

module.exports = {
  AsyncContext: context.AsyncContext,
  AsyncLocalStorage: context.AsyncLocalStorage,
  AsyncResource: context.AsyncResource,
  EventEmitterAsyncResource: context.EventEmitterAsyncResource,
  exportContext: carried.exportContext,
  runInContext: carried.runInContext,
  resources: context.resources,
  WorkerPool: pool.WorkerPool,
  move: pool.move,
  transferableSymbol: pool.transferableSymbol,
  valueSymbol: pool.valueSymbol,
  failingTask: tasks.failingTask,
  fibonacci: tasks.fibonacci,
  performAsyncTask: tasks.performAsyncTask,
}
