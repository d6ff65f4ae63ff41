'use strict'

// baton's public API (CommonJS). index.mjs re-exports it for ESM; index.d.ts types it.
// Each export loads its part of the package when first read: a worker module that
// needs only `move` must not pay for the main thread's pool, the tasks and the context
// code (about 0.8 MiB of heap per worker thread). The first read, or a write,
// leaves a plain data property, as an eager `module.exports = {...}` would have.
const parts = {
  AsyncContext: () => require('./lib/context').AsyncContext,
  AsyncLocalStorage: () => require('./lib/context').AsyncLocalStorage,
  AsyncResource: () => require('./lib/context').AsyncResource,
  EventEmitterAsyncResource: () => require('./lib/context').EventEmitterAsyncResource,
  exportContext: () => require('./lib/context/carried').exportContext,
  runInContext: () => require('./lib/context/carried').runInContext,
  resources: () => require('./lib/context').resources,
  WorkerPool: () => require('./lib/pool/pool').WorkerPool,
  move: () => require('./lib/pool/move').move,
  transferableSymbol: () => require('./lib/pool/move').transferableSymbol,
  valueSymbol: () => require('./lib/pool/move').valueSymbol,
  failingTask: () => require('./lib/tasks').failingTask,
  fibonacci: () => require('./lib/tasks').fibonacci,
  performAsyncTask: () => require('./lib/tasks').performAsyncTask,
}

const settle = (name, value) => Object.defineProperty(module.exports, name, { value, writable: true, enumerable: true, configurable: true })

for (const [name, load] of Object.entries(parts)) {
  Object.defineProperty(module.exports, name, {
    get: () => settle(name, load())[name],
    set: (value) => settle(name, value),
    enumerable: true,
    configurable: true,
  })
}
