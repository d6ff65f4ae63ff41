'use strict'

// baton's AsyncLocalStorage: the API of node:async_hooks' class, one behaviour on both
// of Node's context engines, and a cost that does not grow with the number of storages.

const { AsyncLocalStorage: NodeAsyncLocalStorage } = require('node:async_hooks')
const { ownProperty, validateFunction, validateRecord } = require('../shared/validators')
const carrier = require('./engine')
const { makeRun } = require('./engine/run')
const { ABSENT, push, valueIn } = require('./frame')
const carried = require('./carried')

/** Never a frame: the cache is empty. */
const FORGOTTEN = Symbol('baton.forgotten')
// Set by AsyncLocalStorage's static block: empties a storage's cache.
let forget

class AsyncLocalStorage {
  #name
  #defaultValue
  // The last frame read and this storage's value in it: frames never change while
  // held, so a getStore() in the same frame is one comparison. It holds at most one
  // frame per storage, released by the next read in another context or when run()
  // returns.
  #frame = undefined
  #value

  /** Options are read as own properties only, as Node 24/26 take them: an object, not an array. */
  constructor(options = {}) {
    validateRecord(options, 'options')
    const name = ownProperty(options, 'name')
    // A template literal, as Node's: a Symbol throws its TypeError.
    this.#name = name === undefined ? '' : `${name}`
    this.#defaultValue = ownProperty(options, 'defaultValue')
    this.#value = this.#defaultValue
    // WorkerPool tasks carry this storage's store into their worker (lib/context/carried.js).
    if (ownProperty(options, 'cloneIntoWorkers')) carried.mark(this, this.#name, currentValue)
  }

  get name() {
    return this.#name
  }

  /** Binds `fn` to the current context of every storage, baton's and Node's. */
  static bind(fn) {
    validateFunction(fn, 'fn')
    return NodeAsyncLocalStorage.bind(fn)
  }

  /** Captures the current context: `(fn, ...args) => fn(...args)` run inside it. */
  static snapshot() {
    return NodeAsyncLocalStorage.snapshot()
  }

  getStore() {
    const frame = carrier.getStore()
    if (frame === this.#frame) return this.#value
    const value = valueIn(frame, this)
    carrier.cached(frame, this)
    this.#frame = frame
    this.#value = value === ABSENT ? this.#defaultValue : value
    return this.#value
  }

  /** Runs `fn` with this storage absent: `getStore()` gives the default value there. */
  exit(fn, ...args) {
    return this.run(ABSENT, fn, ...args)
  }

  static {
    // Let go of the frame a run made as it returns: the cache must not keep its store
    // alive, nor see the frame again once the async_hooks engine reuses it.
    forget = (storage) => {
      storage.#frame = FORGOTTEN
    }
  }

  enterWith(store) {
    carrier.enterWith(push(carrier.getStore(), this, store))
  }

  /**
   * Removes this storage from the current context in place, as Node's
   * AsyncContextFrame does: every callback that captured this same context (since the
   * last run(), enterWith() or resource entry on this path) loses the store too;
   * contexts made before or elsewhere keep theirs. The same on every Node line.
   */
  disable() {
    carrier.disable(this)
  }

  /** Enters `store` until the returned scope is disposed (`using scope = als.withScope(v)`). */
  withScope(store) {
    const frame = carrier.getStore()
    carrier.enterWith(push(frame, this, store))
    return new RunScope(this, valueIn(frame, this))
  }
}

/** `storage`'s value in the current context, or ABSENT. */
function currentValue(storage) {
  return valueIn(carrier.getStore(), storage)
}

class RunScope {
  #storage
  #previous
  #disposed = false

  constructor(storage, previous) {
    this.#storage = storage
    this.#previous = previous
  }

  /** Puts back this storage's value only: other storages keep what they have now, as on Node. */
  dispose() {
    if (this.#disposed) return
    this.#disposed = true
    carrier.enterWith(push(carrier.getStore(), this.#storage, this.#previous))
  }

  [Symbol.dispose]() {
    this.dispose()
  }
}

// run() is made apart (./engine/run.js), to keep it to one small stack frame.
Object.defineProperty(AsyncLocalStorage.prototype, 'run', {
  value: makeRun(carrier.enter, carrier.leave, forget),
  writable: true,
  configurable: true,
})

module.exports = { AsyncLocalStorage }
