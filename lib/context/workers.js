'use strict'

// Storages marked `cloneIntoWorkers`: a WorkerPool task carries their current stores,
// structured-cloned, into its worker, which enters them for the handler. A
// storage is known by its name on both sides (each thread has its own storage
// objects), so a marked storage needs a name of its own within its thread.
//
// Nothing here costs a task anything while no storage is marked.

const { nodeError } = require('../shared/errors')
const carrier = require('./engine')
const { ABSENT, push } = require('./frame')

/** name → { name, storage: WeakRef, read: (storage) => its store in the current context, or ABSENT } */
const marked = new Map()
/** The same entries, for capture(): an array walks faster than a Map's iterator. */
let entries = []

function mark(storage, name, read) {
  if (name === '') {
    throw nodeError(TypeError, 'ERR_INVALID_ARG_VALUE', "The property 'options.name' must be a non-empty string when 'options.cloneIntoWorkers' is true")
  }
  if (marked.get(name)?.storage.deref() !== undefined) {
    throw nodeError(TypeError, 'ERR_INVALID_ARG_VALUE', `The property 'options.name' must be unique among storages with 'options.cloneIntoWorkers'. Received '${name}'`)
  }
  const entry = { name, storage: new WeakRef(storage), read }
  marked.set(name, entry)
  entries = [...marked.values()]
}

/** The marked stores of the current context, `[name, store, ...]`, or undefined if none. */
function capture() {
  if (entries.length === 0) return undefined
  let stores
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i]
    const storage = entry.storage.deref()
    const store = storage === undefined ? ABSENT : entry.read(storage)
    if (store !== ABSENT) (stores ??= []).push(entry.name, store)
  }
  return stores
}

/**
 * In a pool worker, before a task's handler: makes the current context hold exactly
 * `stores` (`[name, store, ...]`, or undefined) among baton's storages, whatever ran
 * before in this turn (an earlier task's continuation, say). One frame entered and
 * left for the next task to replace: a run() around the handler would pay a second
 * frame to restore on Node 24/26.
 */
function enterTask(stores) {
  let frame
  if (stores !== undefined) {
    for (let i = 0; i < stores.length; i += 2) {
      const storage = marked.get(stores[i])?.storage.deref()
      if (storage !== undefined) frame = push(frame, storage, stores[i + 1])
    }
  }
  if (frame === undefined && isEmpty(carrier.getStore())) return
  carrier.enterWith(frame)
}

/** A frame with no storage in it: none, or the hooks engine's empty one. */
function isEmpty(frame) {
  return frame === undefined || frame.storage === undefined
}

module.exports = { capture, enterTask, mark }
