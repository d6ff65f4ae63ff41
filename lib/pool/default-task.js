'use strict'

// The task of `new WorkerPool(numThreads)`, as in the pool of Node's async_hooks docs.
module.exports = ({ a, b }) => a + b
