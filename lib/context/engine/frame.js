'use strict'

// AsyncContextFrame: Node keeps an immutable map of storages in V8's
// continuation-preserved data; baton adds one entry to it, its own frame. The carrier
// is that Node AsyncLocalStorage itself, so reading it is one direct call.

const { AsyncLocalStorage } = require('node:async_hooks')

const carrier = new AsyncLocalStorage()
// runInAsyncScope() restores the resource's own frame by itself: nothing to put back.
carrier.enterResource = undefined

module.exports = carrier
