'use strict'

// Storages marked `cloneIntoWorkers`: a WorkerPool task carries their current stores,
// structured-cloned, into its worker, which enters them around the handler. A
// storage is known by its name on both sides (each thread has its own storage
// objects), so a marked storage needs a name of its own within its thread.
//
// Nothing here costs a task anything while no storage is marked.

const { nodeError } = require('../shared/errors')
const { ABSENT } = require('./frame')

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

/** Calls `fn(...args)` with each store of `stores` entered in this thread's storage of that name. */
function runWith(stores, fn, ...args) {
  if (stores === undefined) return fn(...args)
  let call = () => fn(...args)
  for (let i = 0; i < stores.length; i += 2) {
    const storage = marked.get(stores[i])?.storage.deref()
    if (storage === undefined) continue
    const inner = call
    const store = stores[i + 1]
    call = () => storage.run(store, inner)
  }
  return call()
}

module.exports = { capture, mark, runWith }
