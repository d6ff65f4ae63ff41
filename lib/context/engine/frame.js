'use strict'

// AsyncContextFrame: Node keeps an immutable map of storages in V8's
// continuation-preserved data; baton adds one entry to it, its own frame. The carrier
// is that Node AsyncLocalStorage itself, so reading it is one direct call.

const { AsyncLocalStorage } = require('node:async_hooks')
const { Frame, afterRun, below } = require('../frame')

const carrier = new AsyncLocalStorage()
/**
 * Runs `fn(...args)` with `storage = store` in front of the current frame. Not the
 * carrier's own run(), which would read the frame twice, make a rest array, and put
 * back the whole previous frame where only this storage's entry must go back.
 */
carrier.runStorage = (storage, store, fn, args) => {
  const previous = carrier.getStore()
  // Not push(): a run()'s frame is left when it returns, so the front entry alone is
  // replaced, without a walk down the frame.
  const frame = new Frame(storage, store, below(previous, storage))
  carrier.enterWith(frame)
  try {
    return args.length === 0 ? fn() : fn(...args)
  } finally {
    carrier.enterWith(afterRun(carrier.getStore(), frame, previous, storage))
  }
}
// runInAsyncScope() restores the resource's own frame by itself: nothing to put back.
carrier.enterResource = undefined

module.exports = carrier
