'use strict'

// The async_hooks engine: every async resource gets the frame current where it was
// made (one init hook for all of baton, turned on by the first run or enterWith), and
// the current frame is the one on the resource being executed.

const { createHook, executionAsyncResource } = require('node:async_hooks')
const { ABSENT, EMPTY, Frame, afterRun, below, replaceWithout, resolve, valueIn } = require('../frame')

const FRAME = Symbol('baton.frame')
// A resource with no frame gets EMPTY: FRAME fields hold frames only. Where a field
// held undefined and then a frame, V8 widened its type and run()'s stores into it
// went megamorphic (measured: a fifth of run()'s time on Node 20).

/**
 * Counts the moments a frame may have come to be held beyond the run() that made it:
 * captured by a new async resource, cached by a storage other than the one that runs
 * it, or put under an entered frame. While it does not move, nothing but that run()
 * holds its frame, which is then reused for the next run().
 */
const captures = { count: 0 }

const hook = createHook({
  init(asyncId, type, triggerAsyncId, resource) {
    resource[FRAME] = executionAsyncResource()[FRAME] ?? EMPTY
    captures.count++
  },
})
let enabled = false
// Whether some disable() replaced a frame: from then on, reads resolve replacements.
let replacing = false
// The frame of a run() that returned with nothing else holding it: the next run()
// fills it in instead of allocating (Node's own run() here allocates nothing).
let spare

function enable() {
  enabled = true
  hook.enable()
}

function getStore() {
  return executionAsyncResource()[FRAME]
}

/**
 * Puts `storage = store` in front of the current frame, in the spare frame if there is
 * one, and returns that frame, which remembers what leave() needs: the resource it was
 * entered on (the current one when the run returns may differ: a callback that threw
 * inside it can leave Node's stack of resources unpopped), the frame it was entered
 * from, and the captures count then.
 */
function enter(storage, store) {
  if (!enabled) enable()
  const resource = executionAsyncResource()
  const previous = currentOn(resource)
  let frame = spare
  if (frame === undefined) {
    frame = new Frame(storage, store, below(previous, storage))
  } else {
    spare = undefined
    frame.storage = storage
    frame.value = store
    frame.parent = below(previous, storage)
  }
  frame.enteredOn = resource
  frame.enteredFrom = previous
  frame.capturesThen = captures.count
  resource[FRAME] = frame
  return frame
}

/**
 * What a run() leaves on the resource it was entered on. If nothing captured anything
 * meanwhile and its frame is still there, nothing else holds that frame, which becomes
 * the spare.
 */
function leave(frame) {
  const resource = frame.enteredOn
  const current = resource[FRAME]
  resource[FRAME] = afterRun(current, frame)
  if (current === frame && captures.count === frame.capturesThen) {
    frame.storage = frame.value = frame.parent = undefined
    spare = frame
  }
  frame.enteredOn = frame.enteredFrom = undefined
}

/**
 * The frame on `resource`. Once some disable() replaced a frame, it is resolved and
 * written back first: run() reads the resource directly afterwards.
 */
function currentOn(resource) {
  const frame = resource[FRAME] ?? EMPTY
  if (!replacing) return frame
  const current = resolve(frame)
  if (current !== frame) resource[FRAME] = current
  return current
}

function enterWith(frame) {
  if (!enabled) enable()
  captures.count++
  executionAsyncResource()[FRAME] = frame ?? EMPTY
}

/**
 * Puts a resource's own frame back as it is entered: an enterWith() inside an earlier
 * runInAsyncScope() wrote onto the resource itself. Only then is it written, so that a
 * resource frozen after it was made (Node's runInAsyncScope writes nothing) still runs.
 */
function enterResource(resource, frame) {
  if ((resource[FRAME] ?? EMPTY) !== frame) resource[FRAME] = frame
}

/** The frame the init hook gave `resource` (the one current where it was made). */
function resourceFrame(resource) {
  return resource[FRAME] ?? EMPTY
}

/**
 * Takes `storage` out of the current frame in place (see replaceWithout). From the
 * first disable() on, every read resolves replacements first. run() reads the
 * resource directly: the replacement goes onto the current resource (where it can be
 * written: a frozen one runs no run() of its own), and run() resolves the frame on its
 * resource before it starts.
 */
function disable(storage) {
  const resource = executionAsyncResource()
  const frame = carrier.getStore()
  if (valueIn(frame, storage) === ABSENT) return
  // The frame is held beyond its run() now, by the replacements: never reuse it.
  captures.count++
  const replacement = replaceWithout(frame, storage)
  if (writable(resource)) resource[FRAME] = replacement
  replacing = true
  carrier.getStore = resolvedGetStore
}

/** A frame that a run() of `storage` made is forgotten when that run() returns; any other may outlive its run(). */
function cached(frame, storage) {
  if (frame !== undefined && frame.storage !== storage) captures.count++
}

function writable(resource) {
  const field = Reflect.getOwnPropertyDescriptor(resource, FRAME)
  return field === undefined ? Object.isExtensible(resource) : field.writable === true
}

function resolvedGetStore() {
  return resolve(executionAsyncResource()[FRAME])
}

const carrier = { engine: 'async_hooks', getStore, enter, leave, enterWith, disable, resourceFrame, enterResource, cached }

module.exports = carrier
