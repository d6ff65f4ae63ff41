'use strict'

// AsyncContextFrame: Node keeps an immutable map of storages in V8's
// continuation-preserved data; baton adds one entry to it, its own frame. The carrier
// is that Node AsyncLocalStorage itself, so reading it is one direct call.

const { AsyncLocalStorage } = require('node:async_hooks')
const { ABSENT, afterRun, push, replaceWithout, resolve, valueIn } = require('../frame')

const carrier = new AsyncLocalStorage()
const read = carrier.getStore
/**
 * Runs `fn(...args)` with `storage = store` in front of the current frame. Not the
 * carrier's own run(), which would read the frame twice, make a rest array, and put
 * back the whole previous frame where only this storage's entry must go back.
 */
carrier.runStorage = (storage, store, fn, args) => {
  const previous = carrier.getStore()
  const frame = push(previous, storage, store)
  carrier.enterWith(frame)
  try {
    return args.length === 0 ? fn() : fn(...args)
  } finally {
    carrier.enterWith(afterRun(carrier.getStore(), frame, previous, storage))
  }
}
// runInAsyncScope() restores the resource's own frame by itself: nothing to put back.
carrier.enterResource = undefined

/**
 * Takes `storage` out of the current frame in place (see replaceWithout). Node's frame
 * is left as it is: entering a new one would change what a disable() of Node's own
 * storages reaches. From the first disable() on, every read resolves replacements.
 */
carrier.disable = (storage) => {
  const frame = carrier.getStore()
  if (valueIn(frame, storage) === ABSENT) return
  replaceWithout(frame, storage)
  carrier.getStore = resolvedGetStore
}

function resolvedGetStore() {
  return resolve(read.call(carrier))
}

module.exports = carrier
