'use strict'

// The async_hooks engine: every async resource gets the frame current where it was
// made (one init hook for all of baton, turned on by the first run or enterWith), and
// the current frame is the one on the resource being executed.

const { createHook, executionAsyncResource } = require('node:async_hooks')
const { push } = require('../frame')

const FRAME = Symbol('baton.frame')

const hook = createHook({
  init(asyncId, type, triggerAsyncId, resource) {
    resource[FRAME] = executionAsyncResource()[FRAME]
  },
})
let enabled = false

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
  const previous = resource[FRAME]
  resource[FRAME] = push(previous, storage, store)
  try {
    return fn(...args)
  } finally {
    resource[FRAME] = previous
  }
}

function enterWith(frame) {
  if (!enabled) enable()
  executionAsyncResource()[FRAME] = frame
}

/**
 * Puts a resource's own frame back as it is entered: an enterWith() inside an earlier
 * runInAsyncScope() wrote onto the resource itself.
 */
function enterResource(resource, frame) {
  resource[FRAME] = frame
}

/** The frame the init hook gave `resource` (the one current where it was made). */
function resourceFrame(resource) {
  return resource[FRAME]
}

module.exports = { getStore, runStorage, enterWith, enterResource, resourceFrame }
