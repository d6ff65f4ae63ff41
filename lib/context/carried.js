'use strict'

// Storages marked `cloneIntoWorkers`: a WorkerPool task carries their current stores,
// structured-cloned, into its worker, which enters them for the handler. A
// storage is known by its name on both sides (each thread has its own storage
// objects), so a marked storage needs a name of its own within its thread.
// exportContext()/runInContext() give the same carrying to any other transport.
//
// Nothing here costs a task anything while no storage is marked.

const { invalidArgValue, storeNotCloneable } = require('../shared/errors')
const { validateFunction, validateRecord } = require('../shared/validators')
const carrier = require('./engine')
const { ABSENT, isEmpty, push, valueIn } = require('./frame')

/** A storage whose store travels, known by its name in every thread. */
class CarriedStorage {
  /**
   * @param {string} name
   * @param {object} storage held weakly: a collected storage carries nothing
   * @param {(storage: object) => unknown} read its store in the current context, or ABSENT
   * @param {((store: unknown) => unknown) | undefined} encode for a store that cannot be
   *   cloned as it is (baton's OpenTelemetry integration): a cloneable value, or undefined
   *   for nothing to carry
   * @param {((value: unknown) => unknown) | undefined} decode the store again, where it arrives
   */
  constructor(name, storage, read, encode, decode) {
    this.name = name
    this.storage = new WeakRef(storage)
    this.read = read
    this.encode = encode
    this.decode = decode
  }
}

/** @type {Map<string, CarriedStorage>} by name */
const marked = new Map()
/** The same entries, for capture(): an array walks faster than a Map's iterator. */
let entries = []

/** Brings `entries` up to date after `marked` changed. */
function relist() {
  entries = [...marked.values()]
}

function mark(storage, name, read) {
  if (name === '') {
    throw invalidArgValue("The property 'options.name' must be a non-empty string when 'options.cloneIntoWorkers' is true")
  }
  if (marked.get(name)?.storage.deref() !== undefined) {
    throw invalidArgValue(`The property 'options.name' must be unique among storages with 'options.cloneIntoWorkers'. Received '${name}'`)
  }
  marked.set(name, new CarriedStorage(name, storage, read, undefined, undefined))
  relist()
}

/**
 * For baton's integrations: carries the store of `storage` (not marked itself) under
 * `name` through `encode` and `decode`, in place of whatever carried that name before.
 * Returns what stops it again (if nothing has replaced it since).
 */
function carry(storage, name, encode, decode) {
  const entry = new CarriedStorage(name, storage, currentStore, encode, decode)
  marked.set(name, entry)
  relist()
  return () => {
    if (marked.get(name) !== entry) return
    marked.delete(name)
    relist()
  }
}

function currentStore(storage) {
  return valueIn(carrier.getStore(), storage)
}

/** The marked stores of the current context, `[name, store, ...]`, or undefined if none. */
function capture() {
  if (entries.length === 0) return undefined
  let stores
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i]
    const storage = entry.storage.deref()
    let store = storage === undefined ? ABSENT : entry.read(storage)
    if (store !== ABSENT && entry.encode !== undefined) store = entry.encode(store) ?? ABSENT
    if (store !== ABSENT) (stores ??= []).push(entry.name, store)
  }
  return stores
}

/**
 * In a pool worker, before a task's handler: makes the current context hold exactly
 * `stores` (`[name, store, ...]`, or undefined) among baton's storages, whatever ran
 * before in this turn (an earlier task's continuation, say). One frame entered and
 * left for the next task to replace: a run() around the handler would pay a second
 * frame to restore on the AsyncContextFrame engine.
 */
function enterTask(stores) {
  const frame = frameOf(stores)
  if (frame === undefined && isEmpty(carrier.getStore())) return
  carrier.enterWith(frame)
}

/** A frame holding exactly `stores` (`[name, store, ...]`, or undefined) of this thread's marked storages. */
function frameOf(stores) {
  let frame
  if (stores === undefined) return frame
  for (let i = 0; i < stores.length; i += 2) {
    const entry = marked.get(stores[i])
    const storage = entry?.storage.deref()
    if (storage === undefined) continue
    frame = push(frame, storage, entry.decode === undefined ? stores[i + 1] : entry.decode(stores[i + 1]))
  }
  return frame
}

/**
 * The marked stores of the current context as one structured-clonable object, storage
 * name → a clone of its store, for any transport (IPC, a job queue). The same check as
 * a pool task's: a store that cannot be cloned is named in the error.
 */
function exportContext() {
  const stores = capture() ?? []
  const pairs = []
  for (let i = 0; i < stores.length; i += 2) pairs.push([stores[i], stores[i + 1]])
  // fromEntries defines own properties: a storage named '__proto__' is one like any other.
  const context = Object.fromEntries(pairs)
  try {
    return structuredClone(context)
  } catch (error) {
    for (const [name, store] of pairs) {
      try {
        structuredClone(store)
      } catch (cause) {
        throw storeNotCloneable(name, '', cause)
      }
    }
    throw error
  }
}

/**
 * Runs `fn(...args)` in the context `context` (from exportContext(), maybe in another
 * process) describes: exactly its stores among baton's storages, as in a pool worker;
 * the caller's context is back when `fn` returns. Names no storage here is marked with
 * are dropped. Node's own storages are left as they are.
 */
function runInContext(context, fn, ...args) {
  validateRecord(context, 'context')
  validateFunction(fn, 'fn')
  const stores = []
  for (const name of Object.keys(context)) stores.push(name, context[name])
  const previous = carrier.getStore()
  carrier.enterWith(frameOf(stores))
  try {
    return fn(...args)
  } finally {
    carrier.enterWith(previous)
  }
}

module.exports = { capture, carry, enterTask, exportContext, mark, runInContext }
