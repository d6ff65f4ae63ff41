'use strict'

// The demo's request id, in two storages: baton's AsyncLocalStorage (the same API as
// Node's), marked so that WorkerPool tasks carry it into their worker, and Node's own,
// which `--compare` runs the same scenario with. Required by the server and by the
// worker module; the name identifies baton's storage on both sides.
const { AsyncLocalStorage: NodeAsyncLocalStorage } = require('node:async_hooks')
const { AsyncLocalStorage } = require('..')

module.exports = {
  requestId: new AsyncLocalStorage({ name: 'requestId', cloneIntoWorkers: true }),
  nodeRequestId: new NodeAsyncLocalStorage(),
}
