'use strict'

// The demo's request id: a baton AsyncLocalStorage (the same API as Node's), marked so
// that WorkerPool tasks carry it into their worker. Required by the server and by the
// worker module; the name identifies the storage on both sides.
const { AsyncLocalStorage } = require('..')

module.exports = { requestId: new AsyncLocalStorage({ name: 'requestId', cloneIntoWorkers: true }) }
