'use strict'

// AsyncContextFrame: Node keeps an immutable map of storages in V8's
// continuation-preserved data; baton adds one entry to it, its own frame. The carrier
// is that Node AsyncLocalStorage itself, so reading it is one direct call.

const { AsyncLocalStorage } = require('node:async_hooks')
const { push } = require('../frame')

const carrier = new AsyncLocalStorage()
/** Runs `fn(...args)` with `storage = store` in front of the current frame. */
carrier.runStorage = (storage, store, fn, args) => carrier.run(push(carrier.getStore(), storage, store), fn, ...args)
// runInAsyncScope() restores the resource's own frame by itself: nothing to put back.
carrier.enterResource = undefined

module.exports = carrier
