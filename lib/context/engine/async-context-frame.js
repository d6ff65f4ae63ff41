'use strict'

// The AsyncContextFrame engine: Node keeps an immutable map of storages in V8's
// continuation-preserved data; baton adds one entry to it, its own frame. The carrier
// is that Node AsyncLocalStorage itself, so reading it is one direct call.

const { AsyncLocalStorage } = require('node:async_hooks')
const { ABSENT, Frame, afterRun, below, replaceWithout, resolve, valueIn } = require('../frame')

const carrier = new AsyncLocalStorage()
const read = carrier.getStore
/**
 * Puts `storage = store` in front of the current frame, and returns that frame, which
 * remembers the one it was entered from. Not the carrier's own run(), which would read
 * the frame twice, make a rest array, and put back the whole previous frame where only
 * one storage's entry must go back.
 */
function enter(storage, store) {
  const previous = carrier.getStore()
  // Not push(): a run()'s frame is left when it returns, so the front entry alone is
  // replaced, without a walk down the frame (as the async_hooks engine does).
  const frame = new Frame(storage, store, below(previous, storage))
  frame.enteredFrom = previous
  carrier.enterWith(frame)
  return frame
}

function leave(frame) {
  carrier.enterWith(afterRun(carrier.getStore(), frame))
  frame.enteredFrom = undefined
}

carrier.engine = 'AsyncContextFrame'
carrier.enter = enter
carrier.leave = leave
// runInAsyncScope() restores the resource's own frame by itself: nothing to keep or put back.
carrier.resourceFrame = () => undefined
carrier.enterResource = () => {}
// Frames are never reused here: nothing needs to know who holds one.
carrier.cached = () => {}

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
