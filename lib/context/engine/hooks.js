'use strict'

// The async_hooks engine: every async resource gets the frame current where it was
// made (one init hook for all of baton, turned on by the first run or enterWith), and
// the current frame is the one on the resource being executed.

const { createHook, executionAsyncResource } = require('node:async_hooks')
const { ABSENT, EMPTY, Frame, afterRun, below, captures, replaceWithout, resolve, valueIn } = require('../frame')

const FRAME = Symbol('baton.frame')
// A resource with no frame gets EMPTY: FRAME fields hold frames only. Where a field
// held undefined and then a frame, V8 widened its type and run()'s stores into it
// went megamorphic (measured: a fifth of run()'s time on Node 20).

const hook = createHook({
  init(asyncId, type, triggerAsyncId, resource) {
    resource[FRAME] = executionAsyncResource()[FRAME] ?? EMPTY
    captures.count++
  },
})
let enabled = false
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

/** Runs `fn(...args)` with `storage = store` in front of the current frame. */
function runStorage(storage, store, fn, args) {
  if (!enabled) enable()
  const resource = executionAsyncResource()
  const previous = resource[FRAME] ?? EMPTY
  let frame = spare
  if (frame === undefined) {
    frame = new Frame(storage, store, below(previous, storage))
  } else {
    spare = undefined
    frame.storage = storage
    frame.value = store
    frame.parent = below(previous, storage)
  }
  const seen = captures.count
  resource[FRAME] = frame
  try {
    // Without arguments, V8 drops the rest array altogether.
    return args.length === 0 ? fn() : fn(...args)
  } finally {
    resource[FRAME] = afterRun(resource[FRAME], frame, previous, storage)
    if (captures.count === seen) {
      frame.storage = frame.value = frame.parent = undefined
      spare = frame
    }
  }
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
  if (resource[FRAME] !== frame) resource[FRAME] = frame
}

/** The frame the init hook gave `resource` (the one current where it was made). */
function resourceFrame(resource) {
  return resource[FRAME] ?? EMPTY
}

/**
 * Takes `storage` out of the current frame in place (see replaceWithout). From the
 * first disable() on, every read resolves replacements first. run() reads the
 * resource directly: the replacement goes onto the current resource (where it can be
 * written: a frozen one runs no run() of its own), and a run() resolves the frame on
 * its resource before it starts.
 */
function disable(storage) {
  const resource = executionAsyncResource()
  const frame = carrier.getStore()
  if (valueIn(frame, storage) === ABSENT) return
  // The frame is held beyond its run() now, by the replacements: never reuse it.
  captures.count++
  const replacement = replaceWithout(frame, storage)
  if (writable(resource)) resource[FRAME] = replacement
  carrier.getStore = resolvedGetStore
  carrier.runStorage = resolvedRunStorage
}

function writable(resource) {
  const field = Reflect.getOwnPropertyDescriptor(resource, FRAME)
  return field === undefined ? Object.isExtensible(resource) : field.writable === true
}

function resolvedGetStore() {
  return resolve(executionAsyncResource()[FRAME])
}

function resolvedRunStorage(storage, store, fn, args) {
  const resource = executionAsyncResource()
  const frame = resolve(resource[FRAME])
  if (frame !== undefined && frame !== resource[FRAME]) resource[FRAME] = frame
  return runStorage(storage, store, fn, args)
}

const carrier = { getStore, runStorage, enterWith, enterResource, resourceFrame, disable }

module.exports = carrier
